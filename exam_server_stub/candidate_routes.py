"""The tablet's HTTP API: login, package, key, questions, answers, state, finish."""

from __future__ import annotations

import base64
import hmac
import time
from typing import Any

import orjson
from aiohttp import web

from vigie.protocol import API_PREFIX, ErrorCode

from . import auth, bodies
from .errors import ApiError
from .keys import EXAM, SETTINGS, SIGNER
from .tokens import CANDIDATE_ROLE

routes = web.RouteTableDef()


def json(doc: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, content_type="application/json")


@routes.post(f"{API_PREFIX}/login")
async def login(request: web.Request) -> web.Response:
    body = bodies.parse(bodies.Login, await request.read())
    exam = request.app[EXAM]
    c = exam.cands.get(body.candidate_id)
    # One answer for every refusal: do not tell which of id, centre or code was wrong.
    if (
        c is None
        or c.centre != body.centre
        or not hmac.compare_digest(c.access_code.encode(), body.access_code.encode())
    ):
        raise ApiError(ErrorCode.BAD_CREDENTIALS, "Unknown candidate, centre or access code.")
    now = time.time()
    token = request.app[SIGNER].issue(c.id, CANDIDATE_ROLE, c.centre, now)
    exam.audit_later(c, "login", {"remote": request.remote})
    return json(
        {
            "token": token,
            "candidate_id": c.id,
            "centre": c.centre,
            "heartbeat_interval_s": request.app[SETTINGS].heartbeat_interval_s,
            "units": exam.units_json(c, now),
        }
    )


@routes.get(f"{API_PREFIX}/units/{{unit_id}}/package")
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


@routes.get(f"{API_PREFIX}/units/{{unit_id}}/key")
async def key(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    exam = request.app[EXAM]
    u = exam.unit(request.match_info["unit_id"])
    if u.launched_at is None:
        raise ApiError(
            ErrorCode.UNIT_NOT_LAUNCHED,
            f"The key of unit {u.unit.id} is given only after the national launch.",
        )
    return json(
        {
            "unit_id": u.unit.id,
            "key": base64.b64encode(u.key).decode("ascii"),
            "launched_at": u.launched_at,
            "deadline": exam.deadline(c, u, time.time()),
        }
    )


@routes.get(f"{API_PREFIX}/units/{{unit_id}}/questions/{{question_id}}")
async def question(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    exam = request.app[EXAM]
    u = exam.unit(request.match_info["unit_id"])
    if u.launched_at is None:
        raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {u.unit.id} is not launched yet.")
    return json(exam.question(c, u, request.match_info["question_id"]).to_json())


@routes.post(f"{API_PREFIX}/units/{{unit_id}}/answers")
async def answer(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    body = bodies.parse(bodies.AnswerIn, await request.read())
    result = await request.app[EXAM].answer(
        c,
        request.match_info["unit_id"],
        body.action_id,
        body.question_id,
        body.answer,
        body.final,
        body.client_ts,
    )
    return json(result)


@routes.post(f"{API_PREFIX}/units/{{unit_id}}/finish")
async def finish(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    body = bodies.parse(bodies.Finish, await request.read())
    return json(
        await request.app[EXAM].finish(
            c, request.match_info["unit_id"], body.action_id, body.client_ts
        )
    )


@routes.get(f"{API_PREFIX}/me")
async def me(request: web.Request) -> web.Response:
    c = auth.candidate(request)
    return json(request.app[EXAM].me(c, time.time()))
