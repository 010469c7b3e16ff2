"""The typed route table: each route is registered with what it takes and gives.

Handlers are declared with :meth:`Api.route`, which adds the aiohttp route and records an
:class:`Operation` (body type, response type, who may call it, the error codes it may
answer). ``openapi.py`` writes the document from these records and the wire types, so a
route cannot exist without being documented, nor be documented as something it is not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import msgspec
from aiohttp import web

from vigie.protocol import ErrorCode
from vigie.wire.http import ErrorBody, ErrorResponse

from .errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
S = TypeVar("S", bound=msgspec.Struct)
_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_encoder = msgspec.json.Encoder()


class Caller(StrEnum):
    """Who may call a route; each implies the refusals it may answer."""

    ANYONE = "anyone"
    CANDIDATE = "candidate"
    JURY = "jury"  # any jury role, observers included
    JURY_ACT = "jury_act"  # national or centre jury (observers are read-only)
    NATIONAL = "national"
    OPERATOR = "operator"  # the token given to vigie serve --operator-token (fault control)
    CONNECTION_TEST = "connection_test"  # a tablet logged in with its centre's test code


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    where: str = "query"
    required: bool = False


def _string(*examples: str) -> dict[str, Any]:
    return {"type": "string", "examples": list(examples)}


# Path and query parameters shared by several routes (examples from the demo exam).
UNIT_ID = Param("unit_id", "a unit id", _string("ue1", "lca1"), where="path", required=True)
QUESTION_ID = Param("question_id", "a question id", _string("ue1-q001"), where="path", required=True)  # fmt: skip
CENTRE = Param("centre", "a centre code", _string("AMU", "PARIS-CITE"), where="path", required=True)  # fmt: skip
CANDIDATE_ID = Param("candidate_id", "a candidate id", _string("AMU-00001"), where="path", required=True)  # fmt: skip
CENTRE_FILTER = Param("centre", "only this centre (a centre jury sees its own only)", _string("AMU"))  # fmt: skip


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    caller: Caller
    # a wire type, a media type ("application/octet-stream") or several, None
    ok: type[Any] | str | tuple[str, ...] | None
    body: type[msgspec.Struct] | None = None
    errors: tuple[ErrorCode, ...] = ()
    params: tuple[Param, ...] = ()
    description: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # response header -> description
    extra_responses: dict[int, str] = field(default_factory=dict)  # e.g. 304


class Api(web.RouteTableDef):
    """A RouteTableDef that also keeps each route's :class:`Operation`."""

    def __init__(self) -> None:
        super().__init__()
        self.operations: list[Operation] = []

    def route(  # type: ignore[override]
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        caller: Caller,
        ok: type[Any] | str | tuple[str, ...] | None,
        body: type[msgspec.Struct] | None = None,
        errors: tuple[ErrorCode, ...] = (),
        params: tuple[Param, ...] = (),
        description: str = "",
        headers: dict[str, str] | None = None,
        extra_responses: dict[int, str] | None = None,
    ) -> Callable[[Handler], Handler]:
        self.operations.append(
            Operation(
                method, path, summary, tag, caller, ok, body, errors, params, description,
                headers or {}, extra_responses or {},
            )
        )  # fmt: skip
        return super().route(method, path)


SQL_INT_MAX = 2**63 - 1  # what SQLite stores; a larger id or cursor names nothing


def query_int(request: web.Request, name: str, default: int | None = None) -> int:
    """A non-negative integer query parameter (an id, a cursor): 422 invalid_request else."""
    raw = request.query.get(name)
    if raw is None and default is not None:
        return default
    try:
        value = int(raw) if raw is not None else -1
    except ValueError:
        value = -1
    if not 0 <= value <= SQL_INT_MAX:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"{name} must be an integer within 0..2^63-1.")
    return value


INT_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": SQL_INT_MAX}


def parse(model: type[S], raw: bytes) -> S:
    """Decode a request body into its wire type: 400 malformed_json, 422 invalid_request."""
    decoder = _decoders.get(model)
    if decoder is None:
        decoder = _decoders[model] = msgspec.json.Decoder(model)
    try:
        doc: S = decoder.decode(raw)
        return doc
    except msgspec.ValidationError as exc:
        if raw.lstrip()[:1] != b"{":
            raise ApiError(ErrorCode.MALFORMED_JSON, "The body must be a JSON object.") from exc
        raise ApiError(ErrorCode.INVALID_REQUEST, str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise ApiError(ErrorCode.MALFORMED_JSON, f"The body is not valid JSON: {exc}") from exc


def respond(doc: msgspec.Struct | list[Any], status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(doc), status=status, content_type="application/json")


def error_body(code: str, message: str) -> bytes:
    return _encoder.encode(ErrorResponse(error=ErrorBody(code=code, message=message)))
