"""The jury's supervision reads: every candidate's row, the change feed, a candidate's
audit trail, fraud alerts and the incident record (the jury's actions: ``jury_routes``)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from vigie.protocol import API_PREFIX, INCIDENT_STATES, AuditKind, ErrorCode, JuryRole
from vigie.wire import http as w

from . import auth, jury, queries
from .api import CANDIDATE_ID, CENTRE_FILTER, INT_SCHEMA, Api, Caller, Param, query_int, respond
from .episodes import episodes
from .errors import ApiError
from .keys import EXAM
from .state import Cand
from .store import read_only

routes = Api()
J = f"{API_PREFIX}/jury"
E = ErrorCode
TAG = "jury"
CENTRE_QUERY = CENTRE_FILTER


def _pool(request: web.Request, centre: str | None) -> list[Cand]:
    exam = request.app[EXAM]
    return list(exam.by_centre.get(centre, ())) if centre is not None else list(exam.cands.values())


def _feed(request: web.Request, centre: str | None, pool: list[Cand]) -> web.Response:
    exam = request.app[EXAM]
    now = exam.clock()
    u = exam.current_unit()
    return respond(
        w.Feed(
            cursor=exam.cursor,
            server_ts=now,
            unit_id=u.unit.id if u is not None else None,
            counts=w.Counts(**exam.counts.doc(centre)),
            candidates=[exam.row(c, u, now) for c in pool],
        )
    )


@routes.route(
    "GET", f"{J}/snapshot", summary="Every candidate's supervision row, and the counts", tag=TAG,
    caller=Caller.JURY, ok=w.Feed, params=(CENTRE_QUERY,), errors=(E.UNKNOWN_CENTRE,),
)  # fmt: skip
async def snapshot(request: web.Request) -> web.Response:
    centre = auth.centre_filter(request)
    return _feed(request, centre, _pool(request, centre))


SINCE = Param("since", "a cursor from a snapshot or an earlier change feed", {"type": "integer"}, required=True)  # fmt: skip


@routes.route(
    "GET", f"{J}/changes", summary="The rows changed since a cursor", tag=TAG,
    caller=Caller.JURY, ok=w.Feed, params=(SINCE, CENTRE_QUERY),
    errors=(E.UNKNOWN_CENTRE, E.CURSOR_EXPIRED, E.INVALID_REQUEST),
    description="O(changes): counts are kept at each transition, changed rows come from a log.",
)  # fmt: skip
async def changes(request: web.Request) -> web.Response:
    centre = auth.centre_filter(request)
    exam = request.app[EXAM]
    try:
        since = int(request.query["since"])
    except (KeyError, ValueError) as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, "since must be an integer cursor.") from exc
    if since < exam.cursor_floor or since > exam.cursor:
        raise ApiError(
            ErrorCode.CURSOR_EXPIRED, "This cursor is from another server run: take a new snapshot."
        )
    return _feed(request, centre, list(exam.changes.since(since, centre)))


CANDIDATE = CANDIDATE_ID
ANSWERS = Param(
    "answers", "1: include answer contents (national jury only; audited as answers_viewed)",
    {"type": "string", "enum": ["0", "1"]},
)  # fmt: skip


@routes.route(
    "GET", f"{J}/candidates/{{candidate_id}}/timeline", summary="A candidate's audit trail",
    tag=TAG, caller=Caller.JURY, ok=w.Timeline, params=(CANDIDATE, ANSWERS),
    errors=(E.UNKNOWN_CANDIDATE, E.FORBIDDEN, E.INVALID_REQUEST),
)  # fmt: skip
async def timeline(request: web.Request) -> web.Response:
    cl = auth.jury(request)
    exam = request.app[EXAM]
    c = exam.cands.get(request.match_info["candidate_id"])
    if c is None:
        raise ApiError(ErrorCode.UNKNOWN_CANDIDATE, "There is no such candidate.")
    auth.scope(cl, c.centre)
    # Answer contents are for the national jury only, on request, and each reveal is audited.
    flag = request.query.get("answers", "0")
    if flag not in ("0", "1"):
        raise ApiError(ErrorCode.INVALID_REQUEST, "answers is 0 or 1.")
    reveal = flag == "1"
    if reveal:
        if cl.role != JuryRole.NATIONAL:
            raise ApiError(ErrorCode.FORBIDDEN, "Only the national jury may read answers.")
        now = request.app[EXAM].clock()
        data = {"candidate_id": c.id}
        await exam.write(
            lambda conn: queries.audit(
                conn, now, jury.ANSWERS_VIEWED, auth.actor(cl), data,
                candidate_id=c.id, centre=c.centre,
            )
        )  # fmt: skip
    events = await asyncio.to_thread(
        read_only, exam.settings.db_path, lambda conn: jury.timeline(conn, c, answers=reveal)
    )
    return respond(w.Timeline(candidate_id=c.id, answers_shown=reveal, events=events))


def _fraud_rows(conn: Any, since: int, centre: str | None) -> list[w.FraudAlert]:
    return [w.FraudAlert(**dict(r)) for r in queries.fraud_alerts(conn, since, centre)]


ALERT_SINCE = Param("since", "only alerts after this id", INT_SCHEMA)


@routes.route(
    "GET", f"{J}/fraud-alerts", summary="Fraud alerts (candidates typing suspicious URLs)",
    tag=TAG, caller=Caller.JURY, ok=w.FraudAlerts, params=(ALERT_SINCE, CENTRE_QUERY),
    errors=(E.UNKNOWN_CENTRE, E.INVALID_REQUEST),
)  # fmt: skip
async def fraud_alerts(request: web.Request) -> web.Response:
    centre = auth.centre_filter(request)
    since = query_int(request, "since", default=0)
    path = request.app[EXAM].settings.db_path
    alerts = await asyncio.to_thread(read_only, path, lambda conn: _fraud_rows(conn, since, centre))
    return respond(w.FraudAlerts(alerts=alerts))


_REPORTED_KINDS = (
    AuditKind.LAUNCH, AuditKind.CLOSE, AuditKind.PAUSE, AuditKind.RESUME, AuditKind.MESSAGE,
    AuditKind.INCIDENT_TIME, AuditKind.CANDIDATE_PAUSE, AuditKind.CANDIDATE_RESUME,
    AuditKind.END_TIME,
)  # fmt: skip


def _incident_material(conn: Any, centre: str | None, now: float) -> dict[str, Any]:
    extra = [w.ExtraTimeGrant(**dict(r)) for r in queries.extra_time_grants(conn, centre)]
    # Disconnections are reported as episodes (start, end, cause), not as raw events;
    # launch and close (national, no centre) frame the units in every centre's report.
    events = [
        w.IncidentEvent(**{**dict(r), "data": orjson.loads(r["data"])})
        for r in queries.jury_events(conn, _REPORTED_KINDS, centre)
    ]
    return {
        "episodes": [w.Episode(**ep) for ep in episodes(conn, centre, now)],
        "extra_time": extra,
        "events": events,
        "fraud_alerts": _fraud_rows(conn, 0, centre),
    }


@routes.route(
    "GET", f"{J}/incidents", summary="Incidents: who is late or lost now, and the record", tag=TAG,
    caller=Caller.JURY, ok=w.Incidents, params=(CENTRE_QUERY,), errors=(E.UNKNOWN_CENTRE,),
)  # fmt: skip
async def incidents(request: web.Request) -> web.Response:
    centre = auth.centre_filter(request)
    exam = request.app[EXAM]
    now = exam.clock()
    u = exam.current_unit()
    pool = _pool(request, centre)
    current = [exam.row(c, u, now) for c in pool if c.state in INCIDENT_STATES]
    missing = [exam.row(c, u, now) for c in pool if exam.lacks_planned(c, u)]
    material = await asyncio.to_thread(
        read_only, exam.settings.db_path, lambda conn: _incident_material(conn, centre, now)
    )
    return respond(
        w.Incidents(
            server_ts=now, centre=centre, incidents=current, planned_missing=missing, **material
        )
    )
