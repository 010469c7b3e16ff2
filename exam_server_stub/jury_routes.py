"""The jury's HTTP API: login, and its actions (launch, close, pause, extra time, messages);
what it reads to supervise is in ``supervision_routes``."""

from __future__ import annotations

import asyncio
from typing import TypeVar

import msgspec
from aiohttp import web

from vigie.protocol import API_PREFIX, ErrorCode, JuryRole
from vigie.wire import http as w

from . import auth, jury, jury_candidate, queries
from .api import (
    CANDIDATE_ID,
    CENTRE,
    CENTRE_FILTER,
    UNIT_ID,
    Api,
    Caller,
    Param,
    parse,
    respond,
)
from .bootstrap import check_password
from .errors import ApiError
from .keys import EXAM, FAULTS, SETTINGS, SIGNER
from .state import Cand
from .store import read_only
from .tokens import Claims

routes = Api()
J = f"{API_PREFIX}/jury"
E = ErrorCode
TAG = "jury"
T = TypeVar("T")
UNIT, CENTRE_PATH, CENTRE_QUERY = UNIT_ID, CENTRE, CENTRE_FILTER


@routes.route(
    "POST", f"{J}/login", summary="Log a jury member in", tag=TAG, caller=Caller.ANYONE,
    body=w.JuryLogin, ok=w.JuryLoginOk, errors=(E.BAD_CREDENTIALS,),
)  # fmt: skip
async def login(request: web.Request) -> web.Response:
    body = parse(w.JuryLogin, await request.read())
    exam = request.app[EXAM]
    row = await asyncio.to_thread(
        read_only, exam.settings.db_path, lambda c: queries.jury_account(c, body.username)
    )
    ok = row is not None and await asyncio.to_thread(
        check_password, body.password, row["salt"], row["hash"]
    )
    if not ok or row is None:
        raise ApiError(ErrorCode.BAD_CREDENTIALS, "Unknown username or wrong password.")
    role, centre = row["role"], row["centre"]
    token = request.app[SIGNER].issue(body.username, role, centre)
    return respond(w.JuryLoginOk(token=token, username=body.username, role=role, centre=centre))


@routes.route(
    "GET", f"{J}/centres", summary="The centres this jury member sees", tag=TAG,
    caller=Caller.JURY, ok=list[w.CentreInfo],
)  # fmt: skip
async def centres(request: web.Request) -> web.Response:
    cl = auth.jury(request)
    exam = request.app[EXAM]
    only = auth.scope(cl, None)
    return respond(
        [
            w.CentreInfo(code=c.code, name=c.name, candidates=len(exam.by_centre.get(c.code, ())))
            for c in exam.centres.values()
            if only is None or c.code == only
        ]
    )


@routes.route(
    "GET", f"{J}/server", summary="The scenario served and the knobs in force", tag=TAG,
    caller=Caller.JURY, ok=w.ServerInfo,
    description="What a fleet checks before its first wave (vigie load, vigie certify).",
)  # fmt: skip
async def server(request: web.Request) -> web.Response:
    auth.jury(request)
    st = request.app[SETTINGS]
    return respond(
        w.ServerInfo(
            scenario=st.scenario,
            candidates=len(request.app[EXAM].cands),
            knobs=w.ServerKnobs(
                max_connections=st.max_connections,
                latency_ms=st.latency_ms,
                error_rate=st.error_rate,
                request_cpu_ms=st.request_cpu_ms,
                ws_compression=st.ws_compression,
                heartbeat_interval_s=st.heartbeat_interval_s,
                late_after_s=st.late_after_s,
                lost_after_s=st.lost_after_s,
            ),
        )
    )


def _unit_doc(request: web.Request, unit_id: str) -> w.UnitInfo:
    exam = request.app[EXAM]
    u = exam.unit(unit_id)
    # The national view of a unit: a candidate with no extra time stands for everyone.
    doc = exam.unit_json(_NOBODY, u, exam.clock())
    return msgspec.structs.replace(doc, deadline=u.deadline, extra_time_s=0.0, finished=False)


_NOBODY = Cand("", "", "", "")


@routes.route(
    "POST", f"{J}/units/{{unit_id}}/launch", summary="Launch a unit on every site", tag=TAG,
    caller=Caller.NATIONAL, body=w.LaunchRequest, ok=w.UnitInfo, params=(UNIT,),
    errors=(E.UNKNOWN_UNIT, E.UNIT_ALREADY_LAUNCHED),
    description="Pushes `launch` to every connected tablet; `duration_s` defaults to the unit's."
    " Each candidate's planned extra time (tiers-temps) is applied to their deadline.",
)  # fmt: skip
async def launch(request: web.Request) -> web.Response:
    cl = auth.national(request)
    body = parse(w.LaunchRequest, await request.read())
    unit_id = request.match_info["unit_id"]
    dropped = request.app[FAULTS].planned_dropped()  # the drop_planned_extra_time fault
    await request.app[EXAM].launch(unit_id, body.duration_s, body.reason, auth.actor(cl), dropped)
    return respond(_unit_doc(request, unit_id))


@routes.route(
    "POST", f"{J}/units/{{unit_id}}/close", summary="Close a unit on every site", tag=TAG,
    caller=Caller.NATIONAL, body=w.CloseRequest, ok=w.ClosedUnit, params=(UNIT,),
    errors=(E.UNKNOWN_UNIT, E.UNIT_NOT_LAUNCHED, E.UNIT_CLOSED),
)  # fmt: skip
async def close(request: web.Request) -> web.Response:
    cl = auth.national(request)
    body = parse(w.CloseRequest, await request.read())
    unit_id = request.match_info["unit_id"]
    exam = request.app[EXAM]
    after = await exam.close_unit(unit_id, body.reason, auth.actor(cl), body.end_extra_time)
    # Who works on after the close, until when; or, with end_extra_time, who lost how much.
    doc = msgspec.structs.asdict(_unit_doc(request, unit_id))
    overtime = [w.Overtime(**a) for a in after]
    return respond(w.ClosedUnit(**doc, overtime=overtime, end_extra_time=body.end_extra_time))


async def _pause(request: web.Request, paused: bool) -> web.Response:
    cl = auth.jury(request, act=True)
    body = parse(w.IncidentReason, await request.read())
    centre = request.match_info["centre"]
    auth.scope(cl, centre)
    exam = request.app[EXAM]
    return respond(
        await jury.set_paused(exam, centre, paused, body.reason, auth.actor(cl), body.category)
    )


@routes.route(
    "POST", f"{J}/centres/{{centre}}/pause", summary="Pause a centre", tag=TAG,
    caller=Caller.JURY_ACT, body=w.IncidentReason, ok=w.PauseResult, params=(CENTRE_PATH,),
    errors=(E.UNKNOWN_CENTRE, E.CENTRE_PAUSED),
    description="Its tablets show a pause screen; the paused time is credited back on resume.",
)  # fmt: skip
async def pause(request: web.Request) -> web.Response:
    return await _pause(request, True)


@routes.route(
    "POST", f"{J}/centres/{{centre}}/resume", summary="Resume a paused centre", tag=TAG,
    caller=Caller.JURY_ACT, body=w.IncidentReason, ok=w.PauseResult, params=(CENTRE_PATH,),
    errors=(E.UNKNOWN_CENTRE, E.CENTRE_NOT_PAUSED),
)  # fmt: skip
async def resume(request: web.Request) -> web.Response:
    return await _pause(request, False)


def _scope_target(
    request: web.Request, cl: Claims, candidate_id: str | None, centre: str | None
) -> None:
    if cl.role != JuryRole.CENTRE:
        return
    if centre is not None:
        auth.scope(cl, centre)
    elif candidate_id is not None:
        c = request.app[EXAM].cands.get(candidate_id)
        if c is not None:
            auth.scope(cl, c.centre)


@routes.route(
    "POST", f"{J}/extra-time", summary="Grant extra time to a candidate or a centre", tag=TAG,
    caller=Caller.JURY_ACT, body=w.ExtraTimeRequest, ok=w.ExtraTimeResult,
    errors=(E.UNKNOWN_UNIT, E.UNKNOWN_CANDIDATE, E.UNKNOWN_CENTRE, E.UNIT_CLOSED),
)  # fmt: skip
async def extra_time(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = parse(w.ExtraTimeRequest, await request.read())
    _scope_target(request, cl, body.candidate_id, body.centre)
    result = await jury.grant_extra_time(
        request.app[EXAM],
        body.unit_id,
        body.candidate_id,
        body.centre,
        body.seconds,
        body.reason,
        auth.actor(cl),
        body.category,
    )
    return respond(result)


INCIDENT_UNIT = Param("unit_id", "a unit id (default: the current unit)", {"type": "string"})


@routes.route(
    "GET", f"{J}/incident-time", summary="Incident extra time proposed, per centre", tag=TAG,
    caller=Caller.JURY, ok=w.IncidentTimeProposals, params=(INCIDENT_UNIT, CENTRE_QUERY),
    errors=(E.UNKNOWN_CENTRE, E.UNKNOWN_UNIT),
    description="Each candidate's time disconnected during the unit, rounded up to the minute,"
    " less the incident time already granted.",
)  # fmt: skip
async def incident_time(request: web.Request) -> web.Response:
    centre = auth.centre_filter(request)
    exam = request.app[EXAM]
    unit_id = request.query.get("unit_id")
    u = exam.unit(unit_id) if unit_id is not None else exam.current_unit()
    now = exam.clock()
    if u is None or u.launched_at is None:
        return respond(w.IncidentTimeProposals(unit_id=unit_id, server_ts=now, centres=[]))
    return respond(
        w.IncidentTimeProposals(
            unit_id=u.unit.id, server_ts=now, centres=jury.incident_proposals(exam, u, centre)
        )
    )


@routes.route(
    "POST", f"{J}/incident-time", summary="Grant the proposed incident extra time", tag=TAG,
    caller=Caller.JURY_ACT, body=w.IncidentTimeGrant, ok=w.IncidentTimeResult,
    errors=(E.UNKNOWN_UNIT, E.UNKNOWN_CENTRE, E.UNIT_NOT_LAUNCHED, E.UNIT_CLOSED),
    description="Every centre (national jury, no `centre`) or one centre (a centre jury: its"
    " own). Grants what each candidate was disconnected and was not yet granted: granting"
    " twice adds nothing more. Kept apart from planned and other extra time; audited.",
)  # fmt: skip
async def grant_incident_time(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = parse(w.IncidentTimeGrant, await request.read())
    centre = auth.scope(cl, body.centre)
    result = await jury.grant_incident_time(
        request.app[EXAM], body.unit_id, centre, body.reason, auth.actor(cl)
    )
    return respond(result)


@routes.route(
    "POST", f"{J}/messages", summary="Send a message to a candidate's or a centre's tablets",
    tag=TAG, caller=Caller.JURY_ACT, body=w.MessageRequest, ok=w.MessageResult,
    errors=(E.UNKNOWN_CANDIDATE, E.UNKNOWN_CENTRE),
)  # fmt: skip
async def message(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = parse(w.MessageRequest, await request.read())
    _scope_target(request, cl, body.candidate_id, body.centre)
    result = await jury.send_message(
        request.app[EXAM],
        body.candidate_id,
        body.centre,
        body.text,
        body.reason,
        auth.actor(cl),
        body.category,
    )
    return respond(result)


CANDIDATE_PATH = CANDIDATE_ID


async def _candidate_pause(request: web.Request, paused: bool) -> web.Response:
    cl = auth.jury(request, act=True)
    body = parse(w.IncidentReason, await request.read())
    cid = request.match_info["candidate_id"]
    _scope_target(request, cl, cid, None)
    result = await jury_candidate.set_candidate_paused(
        request.app[EXAM], cid, paused, body.reason, auth.actor(cl), body.category
    )
    return respond(result)


@routes.route(
    "POST", f"{J}/candidates/{{candidate_id}}/pause", summary="Pause one candidate", tag=TAG,
    caller=Caller.JURY_ACT, body=w.IncidentReason, ok=w.CandidatePauseResult,
    params=(CANDIDATE_PATH,), errors=(E.UNKNOWN_CANDIDATE, E.CANDIDATE_PAUSED),
    description="Their tablet shows the pause screen and their answers wait (409"
    " `candidate_paused`); the time paused is credited back on resume, once even when it"
    " overlaps a pause of their centre. A centre jury: its own candidates only.",
)  # fmt: skip
async def pause_candidate(request: web.Request) -> web.Response:
    return await _candidate_pause(request, True)


@routes.route(
    "POST", f"{J}/candidates/{{candidate_id}}/resume", summary="Resume a paused candidate",
    tag=TAG, caller=Caller.JURY_ACT, body=w.IncidentReason, ok=w.CandidatePauseResult,
    params=(CANDIDATE_PATH,), errors=(E.UNKNOWN_CANDIDATE, E.CANDIDATE_NOT_PAUSED),
    description="Ends the candidate's own pause; while their centre is still paused their"
    " tablet stays on the pause screen until the centre resumes.",
)  # fmt: skip
async def resume_candidate(request: web.Request) -> web.Response:
    return await _candidate_pause(request, False)


@routes.route(
    "POST", f"{J}/candidates/{{candidate_id}}/end", summary="End one candidate's time now",
    tag=TAG, caller=Caller.JURY_ACT, body=w.IncidentReason, ok=w.EndTimeResult,
    params=(CANDIDATE_PATH,),
    errors=(E.UNKNOWN_CANDIDATE, E.UNIT_NOT_LAUNCHED, E.UNIT_FINISHED, E.UNIT_CLOSED,
            E.OUTSIDE_TIME_WINDOW),
    description="On the unit running for them (tiers-temps after the close included): the"
    " seconds they had left are returned, written as a negative extra time with the reason"
    " and the juror, and audited (`end_time`); their tablet ends the unit.",
)  # fmt: skip
async def end_candidate_time(request: web.Request) -> web.Response:
    cl = auth.jury(request, act=True)
    body = parse(w.IncidentReason, await request.read())
    cid = request.match_info["candidate_id"]
    _scope_target(request, cl, cid, None)
    result = await jury_candidate.end_candidate_time(
        request.app[EXAM], cid, body.reason, auth.actor(cl), body.category
    )
    return respond(result)
