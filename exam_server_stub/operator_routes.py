"""Fault control for the run's operator: timed faults applied to a running server.

``vigie rehearse`` and ``vigie certify`` apply a scenario's server faults through it (a
remote vigie server included), behind the token given to ``vigie serve --operator-token``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from vigie.protocol import API_PREFIX, AuditKind, ErrorCode
from vigie.wire import http as w

from . import auth, queries
from .api import Api, Caller, parse, respond
from .keys import EXAM, FAULTS, WRITER

routes = Api()
PATH = f"{API_PREFIX}/operator/faults"
TAG = "operator"


@routes.route(
    "POST", PATH, summary="Apply a timed fault now", tag=TAG, caller=Caller.OPERATOR,
    body=w.FaultRequest, ok=w.ActiveFault, errors=(ErrorCode.UNKNOWN_CENTRE,),
    description="latency (ms added to every API call), error (a share of API calls answered"
    " 503 injected_fault), db_stall (the database commits nothing: answers wait,"
    " unacknowledged) or drop_planned_extra_time (units launched meanwhile forget the planned"
    " extra time of `centres`' candidates, as a centre that did not apply it). The fault ends"
    " by itself after duration_s; each one is audited.",
)  # fmt: skip
async def apply(request: web.Request) -> web.Response:
    who = auth.operator(request)
    req = parse(w.FaultRequest, await request.read())
    for code in req.centres or ():
        request.app[EXAM].check_centre(code)
    fault = request.app[FAULTS].apply(req)
    data: dict[str, Any] = {"kind": req.kind.value, "duration_s": req.duration_s}
    data["value"] = fault.value
    if fault.centres:
        data["centres"] = fault.centres
    now = time.time()
    # Not awaited: during a db_stall the audit waits with everything else, and the
    # operator's call must not.
    request.app[WRITER].submit(lambda conn: queries.audit(conn, now, AuditKind.FAULT, who, data))
    return respond(fault)


@routes.route(
    "GET", PATH, summary="The timed faults active now", tag=TAG, caller=Caller.OPERATOR,
    ok=w.Faults, errors=(ErrorCode.FORBIDDEN,),
)  # fmt: skip
async def active(request: web.Request) -> web.Response:
    auth.operator(request)
    return respond(w.Faults(active=request.app[FAULTS].active()))
