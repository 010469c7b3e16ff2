"""The tablet websocket: welcome, heartbeats and their acks, instruction confirmations.

This is the hottest path of the server (12,000 tablets, one heartbeat each every
5 s): heartbeats are decoded and checked by msgspec into ``vigie.wire.ws`` types
(``bench/wire_heartbeat.py``), never written to SQLite and never timed with a
histogram, and the ack is one msgspec encode.
"""

from __future__ import annotations

import msgspec
from aiohttp import WSMsgType, web

from vigie.protocol import (
    API_PREFIX,
    MAX_WS_MESSAGE_BYTES,
    AuditKind,
    DisconnectReason,
    ErrorCode,
    WsClose,
)
from vigie.wire.ws import (
    Heartbeat,
    HeartbeatAck,
    Instruction,
    InstructionAck,
    Welcome,
    encoder,
    tablet_decoder,
)

from . import auth
from .api import Api, Caller, Param
from .errors import ApiError
from .exam import Exam
from .keys import EXAM, METRICS, SETTINGS
from .state import Cand
from .tokens import CANDIDATE_ROLE
from .ws_deflate import use_lean_deflate

routes = Api()

_NO_INSTRUCTIONS: list[Instruction] = []


class ProtocolError(Exception):
    pass


@routes.route(
    "GET", f"{API_PREFIX}/ws", summary="The tablet websocket", tag="candidate",
    caller=Caller.ANYONE, ok=None, errors=(ErrorCode.INVALID_REQUEST, ErrorCode.CONNECTION_CAP),
    params=(Param("token", "the candidate's token, where a header cannot be set"),),
    description="A websocket upgrade (docs/protocol.md). The token (Authorization header or"
    " `token` query) is checked after the upgrade: a bad one gets a close frame 1008. A plain"
    " GET is 422; at the connection cap, 503 with Retry-After.",
    extra_responses={101: "Switching Protocols: the websocket"},
)  # fmt: skip
async def websocket(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    exam = request.app[EXAM]
    m = request.app[METRICS]
    if settings.max_connections and exam.open_ws >= settings.max_connections:
        # What the 2022 server did past its limit: refuse, and say when to retry.
        m.ws_rejections.labels(ErrorCode.CONNECTION_CAP).inc()
        raise ApiError(
            ErrorCode.CONNECTION_CAP,
            f"The server holds its maximum of {settings.max_connections} tablet connections.",
            retry_after=settings.retry_after_s,
        )
    ws = web.WebSocketResponse(
        compress=settings.ws_compression,
        # aiohttp refuses a plain frame of exactly max_msg_size but accepts a compressed
        # one of max_msg_size + 1 bytes: one more here, and the exact limit ("over 8 KiB")
        # is checked in _handle for both.
        max_msg_size=MAX_WS_MESSAGE_BYTES + 1,
        autoping=True,
        heartbeat=None,  # our own heartbeats and the sweeper judge liveness
    )
    if not ws.can_prepare(request).ok:
        raise ApiError(ErrorCode.INVALID_REQUEST, "This route expects a websocket upgrade.")
    c: Cand | None = None
    bad_token: ApiError | None = None
    try:
        cl = auth.claims(request, allow_query=True)
        if cl.role != CANDIDATE_ROLE or cl.sub not in exam.cands:
            raise ApiError(ErrorCode.FORBIDDEN, "The websocket is for candidates' tablets.")
        c = exam.cands[cl.sub]
    except ApiError as err:
        bad_token = err
    await ws.prepare(request)
    use_lean_deflate(ws)
    if c is None:
        assert bad_token is not None
        m.ws_rejections.labels(bad_token.code.value).inc()
        await ws.close(code=WsClose.POLICY_VIOLATION, message=bad_token.code.value.encode())
        return ws
    return await _serve(request, exam, c, ws)


async def _serve(
    request: web.Request, exam: Exam, c: Cand, ws: web.WebSocketResponse
) -> web.WebSocketResponse:
    m = request.app[METRICS]
    now = request.app[EXAM].clock()
    reconnects = c.reconnects
    old = exam.attach(c, ws, now)
    if c.reconnects > reconnects:  # attach counts a tablet back during a unit
        m.reconnected(c.centre)
    m.ws_connects.inc()
    if old is not None:
        exam.close_for(old, DisconnectReason.SUPERSEDED)
        await old.close(code=WsClose.SUPERSEDED, message=b"superseded")
    exam.audit_later(
        c, AuditKind.CONNECT, {"remote": request.remote, "superseded": old is not None}
    )
    client_closed = False
    try:
        welcome = Welcome(
            server_ts=now,
            candidate_id=c.id,
            heartbeat_interval_s=exam.settings.heartbeat_interval_s,
            units=exam.units_json(c, now),
        )
        await ws.send_frame(encoder.encode(welcome), WSMsgType.TEXT)
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                # Binary frames are not part of the protocol (errors end the iteration).
                exam.close_for(ws, DisconnectReason.PROTOCOL_ERROR)
                await ws.close(code=WsClose.POLICY_VIOLATION, message=b"text frames only")
                break
            if _too_big(msg.data):
                exam.close_for(ws, DisconnectReason.PROTOCOL_ERROR)
                await ws.close(code=WsClose.MESSAGE_TOO_BIG, message=b"message over 8 KiB")
                break
            try:
                reply = await _handle(exam, c, msg.data)
            except ProtocolError as exc:
                exam.close_for(ws, DisconnectReason.PROTOCOL_ERROR)
                await ws.close(code=WsClose.POLICY_VIOLATION, message=str(exc)[:120].encode())
                break
            if reply is not None:
                await ws.send_frame(reply, WSMsgType.TEXT)
                m.heartbeats.inc()
        else:
            client_closed = ws.close_code is not None and ws not in exam.closing
    finally:
        reason = exam.closed_because(ws)
        if reason is None:
            if ws.close_code == WsClose.MESSAGE_TOO_BIG:
                reason = DisconnectReason.PROTOCOL_ERROR
            elif client_closed and ws.close_code in (WsClose.NORMAL, WsClose.GOING_AWAY):
                reason = DisconnectReason.CLIENT_CLOSE
            else:
                reason = DisconnectReason.NETWORK
        m.ws_disconnects.labels(reason).inc()
        if exam.detach(c, ws, exam.clock()):
            # last_hb: a restart counts the time disconnected from it, as detach did.
            data = {"reason": reason, "code": ws.close_code, "last_hb": c.last_hb}
            exam.audit_later(c, AuditKind.DISCONNECT, data)
    return ws


def _too_big(data: str) -> bool:
    # A UTF-8 character is at most 4 bytes: short messages (every heartbeat) skip the encode.
    return len(data) * 4 > MAX_WS_MESSAGE_BYTES and len(data.encode()) > MAX_WS_MESSAGE_BYTES


async def _handle(exam: Exam, c: Cand, data: str) -> bytes | None:
    try:
        msg = tablet_decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise ProtocolError(str(exc)) from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError("malformed JSON") from exc
    if type(msg) is Heartbeat:
        now = exam.clock()
        exam.heartbeat(c, msg, now)
        instructions = list(c.instructions.values()) if c.instructions else _NO_INSTRUCTIONS
        return encoder.encode(HeartbeatAck(seq=msg.seq, server_ts=now, instructions=instructions))
    assert type(msg) is InstructionAck
    await exam.ack_instructions(c, msg.ids)
    return None
