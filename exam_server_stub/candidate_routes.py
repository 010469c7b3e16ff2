"""The tablet's HTTP API: login, package, key, questions, answers, state, finish."""

from __future__ import annotations

import base64
import hmac

from aiohttp import web

from vigie.protocol import ANSWER_ROUTE, API_PREFIX, AuditKind, ErrorCode
from vigie.wire import http as w

from . import auth
from .api import QUESTION_ID, UNIT_ID, Api, Caller, parse, respond
from .errors import ApiError
from .keys import EXAM, SETTINGS, SIGNER
from .tokens import CANDIDATE_ROLE

routes = Api()
P = API_PREFIX
E = ErrorCode
TAG = "candidate"


@routes.route(
    "POST", f"{P}/login", summary="Log a tablet in", tag=TAG, caller=Caller.ANYONE,
    body=w.Login, ok=w.LoginOk, errors=(E.BAD_CREDENTIALS,),
    description="One refusal for every mistake: it never tells which of id, centre or code was wrong.",
)  # fmt: skip
async def login(request: web.Request) -> web.Response:
    body = parse(w.Login, await request.read())
    exam = request.app[EXAM]
    c = exam.cands.get(body.candidate_id)
    # One answer for every refusal: do not tell which of id, centre or code was wrong.
    if (
        c is None
        or c.centre != body.centre
        or not hmac.compare_digest(c.access_code.encode(), body.access_code.encode())
    ):
        raise ApiError(ErrorCode.BAD_CREDENTIALS, "Unknown candidate, centre or access code.")
    now = request.app[EXAM].clock()
    token = request.app[SIGNER].issue(c.id, CANDIDATE_ROLE, c.centre, now)
    exam.audit_later(c, AuditKind.LOGIN, {"remote": request.remote})
    return respond(
        w.LoginOk(
            token=token,
            candidate_id=c.id,
            centre=c.centre,
            heartbeat_interval_s=request.app[SETTINGS].heartbeat_interval_s,
            units=exam.units_json(c, now),
        )
    )


UNIT, QUESTION = UNIT_ID, QUESTION_ID


@routes.route(
    "GET", f"{P}/units/{{unit_id}}/package", summary="The encrypted subject of a unit",
    tag=TAG, caller=Caller.CANDIDATE, ok="application/octet-stream",
    errors=(E.UNKNOWN_UNIT,), params=(UNIT,),
    description="Available any time (pre-download): a 12-byte nonce, then the AES-256-GCM"
    " ciphertext with its tag of a UTF-8 JSON PackageDoc; associated data: the unit id.",
    headers={"ETag": "the package's sha256, quoted", "X-Vigie-Sha256": "hex sha256 of the body"},
    extra_responses={304: "Not modified (If-None-Match matched the ETag)"},
)  # fmt: skip
async def package(request: web.Request) -> web.Response:
    auth.candidate(request)
    u = request.app[EXAM].unit(request.match_info["unit_id"])
    etag = f'"{u.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(
        body=u.package,
        content_type="application/octet-stream",
        headers={"ETag": etag, "X-Vigie-Sha256": u.sha256},
    )


@routes.route(
    "GET", f"{P}/units/{{unit_id}}/key", summary="The key of a launched unit", tag=TAG,
    caller=Caller.CANDIDATE, ok=w.UnitKey, errors=(E.UNKNOWN_UNIT, E.UNIT_NOT_LAUNCHED),
    params=(UNIT,),
)  # fmt: skip
async def key(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    exam = request.app[EXAM]
    u = exam.unit(request.match_info["unit_id"])
    if u.launched_at is None:
        raise ApiError(
            ErrorCode.UNIT_NOT_LAUNCHED,
            f"The key of unit {u.unit.id} is given only after the national launch.",
        )
    return respond(
        w.UnitKey(
            unit_id=u.unit.id,
            key=base64.b64encode(u.key).decode("ascii"),
            launched_at=u.launched_at,
            deadline=exam.deadline(c, u, exam.clock()),
        )
    )


@routes.route(
    "GET", f"{P}/units/{{unit_id}}/questions/{{question_id}}", summary="A question in clear",
    tag=TAG, caller=Caller.CANDIDATE, ok=w.QuestionDoc, params=(UNIT, QUESTION),
    errors=(E.UNKNOWN_UNIT, E.UNKNOWN_QUESTION, E.UNIT_NOT_LAUNCHED, E.QUESTION_LOCKED),
    description="After the launch; a dossier question unlocks once its predecessor is final.",
)  # fmt: skip
async def question(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    exam = request.app[EXAM]
    u = exam.unit(request.match_info["unit_id"])
    if u.launched_at is None:
        raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {u.unit.id} is not launched yet.")
    doc = exam.question(c, u, request.match_info["question_id"]).to_json()
    return web.json_response(doc, dumps=_dumps)


@routes.route(
    "POST", ANSWER_ROUTE, summary="Store an answer", tag=TAG,
    caller=Caller.CANDIDATE, body=w.AnswerIn, ok=w.AnswerResult, params=(UNIT,),
    errors=(
        E.UNKNOWN_UNIT, E.UNKNOWN_QUESTION, E.INVALID_ANSWER, E.ACTION_ID_REUSED,
        E.UNIT_NOT_LAUNCHED, E.UNIT_CLOSED, E.UNIT_FINISHED, E.CENTRE_PAUSED, E.CANDIDATE_PAUSED,
        E.OUTSIDE_TIME_WINDOW, E.QUESTION_LOCKED, E.QUESTION_FINAL,
    ),
    description="Answered only once the answer is committed to disk. A re-send of the same"
    " request under its action id returns the first result with duplicate: true.",
)  # fmt: skip
async def answer(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    body = parse(w.AnswerIn, await request.read())
    result = await request.app[EXAM].answer(
        c,
        request.match_info["unit_id"],
        body.action_id,
        body.question_id,
        body.answer,
        body.final,
        body.client_ts,
    )
    return respond(result)


@routes.route(
    "POST", f"{P}/units/{{unit_id}}/finish", summary="Hand the unit in", tag=TAG,
    caller=Caller.CANDIDATE, body=w.Finish, ok=w.FinishResult, params=(UNIT,),
    errors=(E.UNKNOWN_UNIT, E.UNIT_NOT_LAUNCHED, E.ACTION_ID_REUSED),
)  # fmt: skip
async def finish(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    body = parse(w.Finish, await request.read())
    exam = request.app[EXAM]
    return respond(
        await exam.finish(c, request.match_info["unit_id"], body.action_id, body.client_ts)
    )


@routes.route(
    "GET", f"{P}/me", summary="The candidate's state, to resume after a reload", tag=TAG,
    caller=Caller.CANDIDATE, ok=w.Me,
)  # fmt: skip
async def me(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    exam = request.app[EXAM]
    return respond(exam.me(c, exam.clock()))


def _dumps(doc: object) -> str:
    return w.encoder.encode(doc).decode()
