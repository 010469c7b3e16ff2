"""The Monday connection test's routes (docs/connection-test.md): a test tablet's login, its
package and echo socket, its report; the jury's figures per centre and their CSV export.

A test token carries its own role: every candidate and jury route refuses it (their role
checks), and these routes refuse every other token.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import sqlite3
from collections.abc import Callable
from functools import cached_property

import msgspec
from aiohttp import WSMsgType, web

from vigie.demo import connection_test_code
from vigie.protocol import API_PREFIX, MAX_WS_MESSAGE_BYTES, ErrorCode, JuryRole, WsClose
from vigie.wire import conntest as w

from . import auth, queries, store
from .api import CENTRE_FILTER, Api, Caller, Param, parse, respond
from .conntest import (
    CSV_COLUMNS,
    PROBES,
    SamplePackage,
    centre_result,
    csv_row,
    probe_interval,
    sample_package,
    tablet_result,
)
from .errors import ApiError
from .exam import Exam
from .keys import EXAM, SIGNER
from .tokens import CONNECTION_TEST_ROLE, Claims

routes = Api()
P = f"{API_PREFIX}/connection-test"
J = f"{API_PREFIX}/jury/connection-test"
E = ErrorCode
TAG = "connection-test"
_report_decoder = msgspec.json.Decoder(w.ConnectionTestReport)
_encoder = msgspec.json.Encoder()
IDLE_S = 30.0  # an echo socket silent this long is closed (4002)


class _Kit:
    """What the routes share, made once per server: the codes and the test package."""

    def __init__(self, exam: Exam) -> None:
        self.exam = exam
        self.sockets: set[web.WebSocketResponse] = set()  # echo sockets open now

    @cached_property
    def codes(self) -> dict[str, str]:
        return {code: connection_test_code(self.exam.seed, code) for code in self.exam.centres}

    @cached_property
    def package(self) -> SamplePackage:
        size = max(len(u.package) for u in self.exam.units.values())
        return sample_package(self.exam.seed, size)


KIT = web.AppKey("conntest_kit", _Kit)


def setup(app: web.Application) -> None:
    app[KIT] = _Kit(app[EXAM])
    app.on_shutdown.append(_close_sockets)


async def _close_sockets(app: web.Application) -> None:
    """Shutdown: an open echo socket must not hold the server's exit back."""
    socks = list(app[KIT].sockets)
    await asyncio.gather(
        *(s.close(code=WsClose.GOING_AWAY, message=b"server shutdown") for s in socks),
        return_exceptions=True,
    )


def _tester(request: web.Request, *, allow_query: bool = False) -> Claims:
    cl = auth.claims(request, allow_query=allow_query)
    if cl.role != CONNECTION_TEST_ROLE:
        raise ApiError(E.FORBIDDEN, "This route is for the connection test's tablets only.")
    return cl


@routes.route(
    "POST", f"{P}/login", summary="Log a tablet in for the connection test", tag=TAG,
    caller=Caller.ANYONE, body=w.ConnectionTestLogin, ok=w.ConnectionTestLoginOk,
    errors=(E.BAD_CREDENTIALS,),
    description="With the centre's test code (shown to its jury). The token opens the test's"
    " routes only: every candidate and jury route refuses it.",
)  # fmt: skip
async def login(request: web.Request) -> web.Response:
    body = parse(w.ConnectionTestLogin, await request.read())
    kit = request.app[KIT]
    expected = kit.codes.get(body.centre, "")
    typed = body.test_code.strip().upper()  # read off a screen, typed on a tablet
    if not expected or not hmac.compare_digest(expected.encode(), typed.encode()):
        raise ApiError(E.BAD_CREDENTIALS, "Unknown centre or wrong test code.")
    exam = request.app[EXAM]
    token = request.app[SIGNER].issue(body.tablet, CONNECTION_TEST_ROLE, body.centre, exam.clock())
    hb = exam.settings.heartbeat_interval_s
    return respond(
        w.ConnectionTestLoginOk(
            token=token,
            centre=body.centre,
            tablet=body.tablet,
            heartbeat_interval_s=hb,
            probe_interval_s=probe_interval(hb),
            probes=PROBES,
            package_bytes=len(kit.package.body),
            package_sha256=kit.package.sha256,
        )
    )


@routes.route(
    "GET", f"{P}/package", summary="The test package: a real unit's size", tag=TAG,
    caller=Caller.CONNECTION_TEST, ok="application/octet-stream",
    headers={"X-Vigie-Sha256": "hex sha256 of the body"},
    description="Deterministic bytes as large as the largest unit's package; never cached.",
)  # fmt: skip
async def package(request: web.Request) -> web.Response:
    _tester(request)
    pkg = request.app[KIT].package
    return web.Response(
        body=pkg.body,
        content_type="application/octet-stream",
        headers={"X-Vigie-Sha256": pkg.sha256, "Cache-Control": "no-store"},
    )


@routes.route(
    "GET", f"{P}/ws", summary="The connection test's echo socket", tag=TAG,
    caller=Caller.ANYONE, ok=None, errors=(E.INVALID_REQUEST,),
    params=(Param("token", "the test token, where a header cannot be set"),),
    description="A websocket upgrade: each Probe comes back as a ProbeEcho at once. A bad"
    " token or message closes it with 1008, 30 s without a probe with 4002; a plain GET is 422.",
    extra_responses={101: "Switching Protocols: the websocket"},
)  # fmt: skip
async def echo(request: web.Request) -> web.StreamResponse:
    ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE_BYTES, heartbeat=None)
    if not ws.can_prepare(request).ok:
        raise ApiError(E.INVALID_REQUEST, "This route expects a websocket upgrade.")
    refusal: ApiError | None = None
    try:
        _tester(request, allow_query=True)
    except ApiError as err:
        refusal = err
    await ws.prepare(request)
    if refusal is not None:
        await ws.close(code=WsClose.POLICY_VIOLATION, message=refusal.code.value.encode())
        return ws
    sockets = request.app[KIT].sockets
    sockets.add(ws)
    try:
        await _echo(ws, request.app[EXAM].clock)
    finally:
        sockets.discard(ws)
    return ws


async def _echo(ws: web.WebSocketResponse, clock: Callable[[], float]) -> None:
    while True:
        try:
            msg = await ws.receive(timeout=IDLE_S)
        except TimeoutError:  # a test is a minute at most: a silent socket is left behind
            await ws.close(code=WsClose.HEARTBEAT_TIMEOUT, message=b"no probe")
            return
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return
        try:
            if msg.type is not WSMsgType.TEXT:
                raise msgspec.DecodeError("text frames only")
            probe = w.probe_decoder.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await ws.close(code=WsClose.POLICY_VIOLATION, message=str(exc)[:120].encode())
            return
        echo = w.ProbeEcho(seq=probe.seq, client_ts=probe.client_ts, server_ts=clock())
        await ws.send_frame(_encoder.encode(echo), WSMsgType.TEXT)


@routes.route(
    "POST", f"{P}/report", summary="What a test tablet measured", tag=TAG,
    caller=Caller.CONNECTION_TEST, body=w.ConnectionTestReport, ok=w.ConnectionTestReportOk,
    description="Answered once stored: the tablet's latest report replaces its previous one.",
)  # fmt: skip
async def report(request: web.Request) -> web.Response:
    cl = _tester(request)
    body = parse(w.ConnectionTestReport, await request.read())
    if len(body.rtt_ms) > body.probes_sent:
        raise ApiError(E.INVALID_REQUEST, "More round trips than probes sent.")
    centre = cl.centre or ""
    exam = request.app[EXAM]
    now = exam.clock()
    raw = _encoder.encode(body)

    def job(conn: sqlite3.Connection) -> None:
        queries.save_connection_test(conn, centre, cl.sub, now, raw)

    await exam.write(job)
    result = tablet_result(centre, cl.sub, now, body, request.app[KIT].package.sha256)
    return respond(
        w.ConnectionTestReportOk(centre=centre, tablet=cl.sub, received_at=now, ready=result.ready)
    )


def _centre(request: web.Request) -> tuple[Claims, str | None]:
    cl = auth.jury(request)
    centre = auth.scope(cl, request.query.get("centre"))
    if centre is not None:
        request.app[EXAM].check_centre(centre)
    return cl, centre


async def _summary(request: web.Request) -> w.ConnectionTestSummary:
    cl, only = _centre(request)
    shown = cl.role in (JuryRole.NATIONAL, JuryRole.CENTRE)  # observers never see codes
    # Off the event loop: a whole country's reports are read, decoded and sorted.
    return await asyncio.to_thread(_build, request.app[EXAM], request.app[KIT], only, shown)


def _build(exam: Exam, kit: _Kit, only: str | None, shown: bool) -> w.ConnectionTestSummary:
    rows = store.read_only(exam.settings.db_path, lambda conn: queries.connection_tests(conn, only))
    tablets: dict[str, list[w.TabletResult]] = {}
    rtts: dict[str, list[float]] = {}
    for row in rows:
        r = _report_decoder.decode(row["report"])
        code = row["centre"]
        t = tablet_result(code, row["tablet"], row["reported_at"], r, kit.package.sha256)
        tablets.setdefault(code, []).append(t)
        rtts.setdefault(code, []).extend(r.rtt_ms)
    codes = [only] if only is not None else list(exam.centres)
    centres = [
        centre_result(
            code, exam.centres[code].name, kit.codes[code] if shown else None,
            tablets.get(code, []), rtts.get(code, []),
        )
        for code in codes
    ]  # fmt: skip
    every = [t for code in codes for t in tablets.get(code, [])]
    return w.ConnectionTestSummary(centres=centres, tablets=every)


@routes.route(
    "GET", J, summary="The connection test's figures per centre", tag="jury",
    caller=Caller.JURY, ok=w.ConnectionTestSummary, params=(CENTRE_FILTER,),
    errors=(E.UNKNOWN_CENTRE,),
    description="Per centre: tablets reported and ready, round-trip and download percentiles,"
    " the five slowest tablets; and every tablet's latest report. A centre jury sees its own"
    " centre only; observers see no test codes.",
)  # fmt: skip
async def summary(request: web.Request) -> web.Response:
    return respond(await _summary(request))


@routes.route(
    "GET", J + ".csv", summary="The connection test, one row per tablet (CSV)", tag="jury",
    caller=Caller.JURY, ok="text/csv", params=(CENTRE_FILTER,), errors=(E.UNKNOWN_CENTRE,),
    description="For the centre's report of the Monday test: every tablet's latest report.",
)  # fmt: skip
async def summary_csv(request: web.Request) -> web.Response:
    doc = await _summary(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(t) for t in doc.tablets)
    # Codes are the server's own (checked above), safe in a header.
    only = doc.centres[0].centre if len(doc.centres) == 1 else None
    name = f"test-connexion-{only}.csv" if only else "test-connexion.csv"
    return web.Response(
        text=out.getvalue(), content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
