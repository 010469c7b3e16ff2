"""The jury's HTTP API: login, actions (launch, close, pause, extra time, messages), supervision."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web

from vigie.protocol import API_PREFIX, INCIDENT_STATES, ErrorCode, JuryRole

from . import auth, bodies, jury
from .bootstrap import check_password
from .candidate_routes import json
from .errors import ApiError
from .keys import EXAM, SIGNER
from .state import Cand
from .store import connect

routes = web.RouteTableDef()
J = f"{API_PREFIX}/jury"


@routes.post(f"{J}/login")
async def login(request: web.Request) -> web.Response:
    body = bodies.parse(bodies.JuryLogin, await request.read())
    exam = request.app[EXAM]
    row = await asyncio.to_thread(_account, exam.settings.db_path, body.username)
    ok = row is not None and await asyncio.to_thread(
        check_password, body.password, row["salt"], row["hash"]
    )
    if not ok or row is None:
        raise ApiError(ErrorCode.BAD_CREDENTIALS, "Unknown username or wrong password.")
    role, centre = row["role"], row["centre"]
    token = request.app[SIGNER].issue(body.username, role, centre)
    return json({"token": token, "username": body.username, "role": role, "centre": centre})


def _account(path: Any, username: str) -> Any:
    conn = connect(path, readonly=True)
    try:
        return conn.execute(
            "SELECT * FROM jury_accounts WHERE username = ?", (username,)
        ).fetchone()
    finally:
        conn.close()


@routes.get(f"{J}/centres")
async def centres(request: web.Request) -> web.Response:
    cl = auth.jury(request)
    exam = request.app[EXAM]
    only = auth.scope(cl, None)
    return json(
        [
            {"code": c.code, "name": c.name, "candidates": len(exam.by_centre.get(c.code, ()))}
            for c in exam.centres.values()
            if only is None or c.code == only
        ]
    )


def _unit_doc(request: web.Request, unit_id: str) -> dict[str, Any]:
    exam = request.app[EXAM]
    u = exam.unit(unit_id)
    now = time.time()
    # The national view of a unit: a candidate with no extra time stands for everyone.
    doc = exam.unit_json(_NOBODY, u, now)
    doc["deadline"] = u.deadline
    doc["extra_time_s"] = 0.0
    doc["finished"] = False
    return doc


_NOBODY = Cand("", "", "", "")


@routes.post(f"{J}/units/{{unit_id}}/launch")
async def launch(request: web.Request) -> web.Response:
    cl = auth.national(request)
    body = bodies.parse(bodies.Launch, await request.read())
    unit_id = request.match_info["unit_id"]
    await request.app[EXAM].launch(unit_id, body.duration_s, body.reason, auth.actor(cl))
    return json(_unit_doc(request, unit_id))


@routes.post(f"{J}/units/{{unit_id}}/close")
async def close(request: web.Request) -> web.Response:
    cl = auth.national(request)
    body = bodies.parse(bodies.ReasonOnly, await request.read())
    unit_id = request.match_info["unit_id"]
    await request.app[EXAM].close_unit(unit_id, body.reason, auth.actor(cl))
    return json(_unit_doc(request, unit_id))


@routes.post(f"{J}/centres/{{centre}}/pause")
async def pause(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = bodies.parse(bodies.ReasonOnly, await request.read())
    centre = request.match_info["centre"]
    auth.scope(cl, centre)
    return json(await jury.pause_centre(request.app[EXAM], centre, body.reason, auth.actor(cl)))


@routes.post(f"{J}/centres/{{centre}}/resume")
async def resume(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = bodies.parse(bodies.ReasonOnly, await request.read())
    centre = request.match_info["centre"]
    auth.scope(cl, centre)
    return json(await jury.resume_centre(request.app[EXAM], centre, body.reason, auth.actor(cl)))


def _scope_target(
    request: web.Request, cl: Any, candidate_id: str | None, centre: str | None
) -> None:
    if cl.role != JuryRole.CENTRE:
        return
    if centre is not None:
        auth.scope(cl, centre)
    elif candidate_id is not None:
        c = request.app[EXAM].cands.get(candidate_id)
        if c is not None:
            auth.scope(cl, c.centre)


@routes.post(f"{J}/extra-time")
async def extra_time(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = bodies.parse(bodies.ExtraTime, await request.read())
    _scope_target(request, cl, body.candidate_id, body.centre)
    result = await jury.grant_extra_time(
        request.app[EXAM],
        body.unit_id,
        body.candidate_id,
        body.centre,
        body.seconds,
        body.reason,
        auth.actor(cl),
    )
    return json(result)


@routes.post(f"{J}/messages")
async def message(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = bodies.parse(bodies.Message, await request.read())
    _scope_target(request, cl, body.candidate_id, body.centre)
    result = await jury.send_message(
        request.app[EXAM], body.candidate_id, body.centre, body.text, body.reason, auth.actor(cl)
    )
    return json(result)


def _centre_param(request: web.Request) -> str | None:
    cl = auth.jury(request)
    centre = auth.scope(cl, request.query.get("centre"))
    if centre is not None:
        request.app[EXAM].check_centre(centre)
    return centre


def _pool(request: web.Request, centre: str | None) -> list[Cand]:
    exam = request.app[EXAM]
    return list(exam.by_centre.get(centre, ())) if centre is not None else list(exam.cands.values())


@routes.get(f"{J}/snapshot")
async def snapshot(request: web.Request) -> web.Response:
    centre = _centre_param(request)
    exam = request.app[EXAM]
    now = time.time()
    u = exam.current_unit()
    pool = _pool(request, centre)
    return json(
        {
            "cursor": exam.cursor,
            "server_ts": now,
            "unit_id": u.unit.id if u is not None else None,
            "counts": exam.counts.doc(centre),
            "candidates": [exam.row(c, u, now) for c in pool],
        }
    )


@routes.get(f"{J}/changes")
async def changes(request: web.Request) -> web.Response:
    centre = _centre_param(request)
    exam = request.app[EXAM]
    try:
        since = int(request.query["since"])
    except (KeyError, ValueError) as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, "since must be an integer cursor.") from exc
    if since < exam.cursor_floor or since > exam.cursor:
        raise ApiError(
            ErrorCode.CURSOR_EXPIRED, "This cursor is from another server run: take a new snapshot."
        )
    now = time.time()
    u = exam.current_unit()
    # O(changes): counts are kept at each transition, changed rows come from the log.
    return json(
        {
            "cursor": exam.cursor,
            "server_ts": now,
            "unit_id": u.unit.id if u is not None else None,
            "counts": exam.counts.doc(centre),
            "candidates": [exam.row(c, u, now) for c in exam.changes.since(since, centre)],
        }
    )


@routes.get(f"{J}/candidates/{{candidate_id}}/timeline")
async def timeline(request: web.Request) -> web.Response:
    cl = auth.jury(request)
    exam = request.app[EXAM]
    c = exam.cands.get(request.match_info["candidate_id"])
    if c is None:
        raise ApiError(ErrorCode.UNKNOWN_CANDIDATE, "There is no such candidate.")
    auth.scope(cl, c.centre)
    events = await asyncio.to_thread(
        _read, exam.settings.db_path, lambda conn: jury.timeline(conn, c)
    )
    return json({"candidate_id": c.id, "events": events})


def _read(path: Any, fn: Any) -> Any:
    conn = connect(path, readonly=True)
    try:
        return fn(conn)
    finally:
        conn.close()


def _fraud_rows(conn: Any, since: int, centre: str | None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM fraud_alerts WHERE id > ?"
    args: list[Any] = [since]
    if centre is not None:
        sql += " AND centre = ?"
        args.append(centre)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id", args)]


@routes.get(f"{J}/fraud-alerts")
async def fraud_alerts(request: web.Request) -> web.Response:
    centre = _centre_param(request)
    try:
        since = int(request.query.get("since", "0"))
    except ValueError as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, "since must be an integer alert id.") from exc
    path = request.app[EXAM].settings.db_path
    alerts = await asyncio.to_thread(_read, path, lambda conn: _fraud_rows(conn, since, centre))
    return json({"alerts": alerts})


def _incident_material(conn: Any, centre: str | None) -> dict[str, Any]:
    sql = "SELECT * FROM extra_time"
    args: list[Any] = []
    if centre is not None:
        sql += " WHERE centre = ?"
        args.append(centre)
    extra = [dict(r) for r in conn.execute(sql + " ORDER BY id", args)]
    sql = "SELECT seq, ts, kind, actor, centre, candidate_id, data FROM audit WHERE kind IN ('pause', 'resume', 'message', 'disconnect')"
    if centre is not None:
        sql += " AND centre = ?"
    events = [
        {**dict(r), "data": orjson.loads(r["data"])}
        for r in conn.execute(sql + " ORDER BY seq", [centre] if centre is not None else [])
    ]
    return {"extra_time": extra, "events": events, "fraud_alerts": _fraud_rows(conn, 0, centre)}


@routes.get(f"{J}/incidents")
async def incidents(request: web.Request) -> web.Response:
    centre = _centre_param(request)
    exam = request.app[EXAM]
    now = time.time()
    u = exam.current_unit()
    current = [exam.row(c, u, now) for c in _pool(request, centre) if c.state in INCIDENT_STATES]
    material = await asyncio.to_thread(
        _read, exam.settings.db_path, lambda conn: _incident_material(conn, centre)
    )
    return json({"server_ts": now, "centre": centre, "incidents": current, **material})
