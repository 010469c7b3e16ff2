"""Fault control for the run's operator: timed faults applied to a running server.

``vigie rehearse`` and ``vigie certify`` apply a scenario's server faults through it (a
remote vigie server included), behind the token given to ``vigie serve --operator-token``.
"""

from __future__ import annotations

import time

from aiohttp import web

from vigie.protocol import API_PREFIX, AuditKind, ErrorCode
from vigie.wire import http as w

from . import auth, store
from .api import Api, Caller, parse, respond
from .keys import FAULTS, WRITER

routes = Api()
PATH = f"{API_PREFIX}/operator/faults"
TAG = "operator"


@routes.route(
    "POST", PATH, summary="Apply a timed fault now", tag=TAG, caller=Caller.OPERATOR,
    body=w.FaultRequest, ok=w.ActiveFault,
    description="latency (ms added to every API call), error (a share of API calls answered"
    " 503 injected_fault) or db_stall (the database commits nothing: answers wait,"
    " unacknowledged). The fault ends by itself after duration_s; each one is audited.",
)  # fmt: skip
async def apply(request: web.Request) -> web.Response:
    who = auth.operator(request)
    req = parse(w.FaultRequest, await request.read())
    fault = request.app[FAULTS].apply(req)
    data = {"kind": req.kind.value, "duration_s": req.duration_s, "value": fault.value}
    now = time.time()
    # Not awaited: during a db_stall the audit waits with everything else, and the
    # operator's call must not.
    request.app[WRITER].submit(lambda conn: store.audit(conn, now, AuditKind.FAULT, who, data))
    return respond(fault)


@routes.route(
    "GET", PATH, summary="The timed faults active now", tag=TAG, caller=Caller.OPERATOR,
    ok=w.Faults, errors=(ErrorCode.FORBIDDEN,),
)  # fmt: skip
async def active(request: web.Request) -> web.Response:
    auth.operator(request)
    return respond(w.Faults(active=request.app[FAULTS].active()))
