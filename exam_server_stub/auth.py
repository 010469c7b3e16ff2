"""Who is asking: bearer tokens, candidate and jury identities, role and centre scope."""

from __future__ import annotations

import hmac

from aiohttp import web

from vigie.protocol import ErrorCode, JuryRole

from .errors import ApiError
from .keys import EXAM, SETTINGS, SIGNER
from .state import Cand
from .tokens import CANDIDATE_ROLE, Claims


def bearer(request: web.Request, *, allow_query: bool = False) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    if allow_query:
        return request.query.get("token")
    return None


def claims(request: web.Request, *, allow_query: bool = False) -> Claims:
    token = bearer(request, allow_query=allow_query)
    if not token:
        raise ApiError(ErrorCode.UNAUTHENTICATED, "Missing bearer token.")
    return request.app[SIGNER].verify(token)


def candidate(request: web.Request) -> Cand:
    cl = claims(request)
    if cl.role != CANDIDATE_ROLE:
        raise ApiError(ErrorCode.FORBIDDEN, "This route is for candidates' tablets.")
    c = request.app[EXAM].cands.get(cl.sub)
    if c is None:
        raise ApiError(ErrorCode.UNAUTHENTICATED, "The token names no known candidate.")
    return c


def jury(request: web.Request, *, act: bool = False) -> Claims:
    """A jury member; ``act`` refuses observers (read-only)."""
    cl = claims(request)
    if cl.role not in (JuryRole.NATIONAL, JuryRole.CENTRE, JuryRole.OBSERVER):
        raise ApiError(ErrorCode.FORBIDDEN, "This route is for the jury.")
    if act and cl.role == JuryRole.OBSERVER:
        raise ApiError(ErrorCode.FORBIDDEN, "Observers have read-only access.")
    return cl


def national(request: web.Request) -> Claims:
    cl = jury(request, act=True)
    if cl.role != JuryRole.NATIONAL:
        raise ApiError(ErrorCode.FORBIDDEN, "Only the national jury may do this.")
    return cl


def scope(cl: Claims, centre: str | None) -> str | None:
    """The centre a jury member may see: a centre jury is held to its own."""
    if cl.role == JuryRole.CENTRE:
        if centre is not None and centre != cl.centre:
            raise ApiError(ErrorCode.FORBIDDEN, f"Your account covers centre {cl.centre} only.")
        return cl.centre
    return centre


def centre_filter(request: web.Request) -> str | None:
    """The ``centre`` query of a jury read, within the caller's scope (None: national)."""
    cl = jury(request)
    centre = scope(cl, request.query.get("centre"))
    if centre is not None:
        request.app[EXAM].check_centre(centre)
    return centre


def operator(request: web.Request) -> str:
    """The operator of the run (fault control): the token given to ``vigie serve``."""
    token = bearer(request)
    if not token:
        raise ApiError(ErrorCode.UNAUTHENTICATED, "Missing bearer token.")
    expected = request.app[SETTINGS].operator_token
    if not expected:
        raise ApiError(
            ErrorCode.FORBIDDEN,
            "Fault control is off on this server: start vigie serve with --operator-token.",
        )
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise ApiError(ErrorCode.FORBIDDEN, "This is not the operator token of this server.")
    return "operator"


def actor(cl: Claims) -> str:
    return f"jury:{cl.sub}"
