"""A tablet's websocket, with the socket replaced by a stand-in: typed frames both ways,
reconnects with backoff (Retry-After honoured), socket counting, close codes."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any, cast

import gevent
import pytest

from simulator.settings import FailureKind, FleetCounters, FleetSettings, TabletIdentity
from simulator.tablet import link as link_module
from simulator.tablet.api import TabletApi
from simulator.tablet.backoff import Backoff, Pacer
from simulator.tablet.link import TabletLink
from simulator.tablet.state import Progress
from simulator.wsclient import WsHandshakeError
from vigie.protocol import ErrorCode, InstructionKind, WsClose
from vigie.wire.http import ErrorBody, ErrorResponse
from vigie.wire.http import encoder as http_encoder
from vigie.wire.ws import (
    CloseUnitPush,
    Heartbeat,
    HeartbeatAck,
    Instruction,
    InstructionAck,
    LaunchPush,
    Welcome,
    encoder,
    tablet_decoder,
)


class Conn:
    def __init__(self) -> None:
        self.closed = False
        self.paused = False
        self.sent: list[bytes] = []
        self.close_code: int | None = None
        self.on_message: Callable[[bool, bytes], None] | None = None
        self.on_close: Callable[[int, str], None] | None = None

    def start(
        self, on_message: Callable[[bool, bytes], None], on_close: Callable[[int, str], None]
    ) -> None:
        self.on_message, self.on_close = on_message, on_close

    def send_text(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self, code: int) -> None:
        self.closed, self.close_code = True, code

    def abort(self) -> None:
        self.closed = True


class Api:
    host, port = "127.0.0.1", 9
    connect_host = host
    source = None
    identity = TabletIdentity("C1-00001", "C1", "code", 1)

    def __init__(self) -> None:
        self.token: str | None = "T1"
        self.logins = 0

    def hold_while_cut(self, what: str) -> None:
        pass

    def login(self) -> None:
        self.logins += 1
        self.token = f"T{self.logins + 1}"


class Listener:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.changes = 0

    def on_welcome(self, msg: Welcome) -> None:
        self.events.append(msg)

    def on_launch(self, msg: LaunchPush) -> None:
        self.events.append(msg)

    def on_close_unit(self, msg: CloseUnitPush) -> None:
        self.events.append(msg)

    def on_instructions(self, items: list[Instruction]) -> list[str]:
        self.events.append(items)
        return [i.id for i in items]

    def on_link_change(self) -> None:
        self.changes += 1


class Rig:
    """A link whose ``connect`` plays a script: each item a Conn or an exception."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *script: Conn | BaseException) -> None:
        self.script = list(script)
        self.tokens: list[str | None] = []
        self.naps: list[float] = []
        self.reports: list[tuple[str, str, BaseException | None]] = []
        self.api = Api()
        self.listener = Listener()
        self.stopping = False
        monkeypatch.setattr(link_module, "connect", self._connect)
        pacer = Pacer(Backoff(0.1, 1.0), sleep=self.naps.append, rng=random.Random(2))
        self.link = TabletLink(
            FleetSettings(target="http://127.0.0.1:9", heartbeat_interval_s=1.0),
            cast(TabletApi, self.api),
            self._report,
            pacer,
            Progress(current_unit="U1", position=3, answered=2, battery=77),
            self.listener,
            lambda: self.stopping,
        )

    def _connect(self, host: str, port: int, path: str, headers: dict[str, str], **kw: Any) -> Conn:
        self.tokens.append(self.api.token)
        assert headers == {"Authorization": f"Bearer {self.api.token}"}
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def _report(self, rtype: str, name: str, ms: float, n: int, exc: BaseException | None) -> None:
        self.reports.append((rtype, name, exc))

    def socket(self) -> object:
        return self.link.ws

    def kinds(self, name: str) -> list[FailureKind | None]:
        return [getattr(e, "kind", None) for _, n, e in self.reports if n == name]


@pytest.fixture(autouse=True)
def _counters() -> Iterator[None]:
    FleetCounters.sockets_open = 0
    yield
    assert FleetCounters.sockets_open == 0, "a socket was counted open and never closed"


def refusal(status: int, code: str, headers: dict[str, str] | None = None) -> WsHandshakeError:
    body = http_encoder.encode(ErrorResponse(error=ErrorBody(code=code, message="no")))
    return WsHandshakeError(status, headers or {}, body)


def test_connect_honours_retry_after_and_logs_in_again_on_401(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = Conn()
    rig = Rig(
        monkeypatch,
        refusal(503, ErrorCode.CONNECTION_CAP, {"retry-after": "5"}),
        ConnectionRefusedError(),
        refusal(401, ErrorCode.UNAUTHENTICATED),
        conn,
    )
    assert rig.link.connect()
    assert rig.kinds("ws_connect") == [
        FailureKind.CONNECTION_CAP,
        FailureKind.REFUSED,
        FailureKind.HTTP_4XX,
        None,
    ]
    assert 5.0 <= rig.naps[0] <= 5.1 and all(n <= 1.0 for n in rig.naps[1:])
    assert rig.api.logins == 1 and rig.tokens == ["T1", "T1", "T1", "T2"]
    assert FleetCounters.sockets_open == 1 and rig.link.up
    rig.link.close()
    assert conn.close_code == WsClose.NORMAL and FleetCounters.sockets_open == 0
    rig.link.close()  # counted exactly once
    assert FleetCounters.sockets_open == 0


def test_connect_gives_up_when_the_tablet_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig(monkeypatch)
    rig.stopping = True
    assert not rig.link.connect()
    assert rig.tokens == []


def test_heartbeats_are_typed_and_their_ack_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = Conn()
    rig = Rig(monkeypatch, conn)
    rig.link.connect()
    rig.link._beat()
    hb = tablet_decoder.decode(conn.sent[-1])
    assert isinstance(hb, Heartbeat)
    assert (hb.seq, hb.unit_id, hb.position, hb.answered, hb.battery) == (1, "U1", 3, 2, 77)
    assert conn.on_message is not None
    conn.on_message(True, encoder.encode(HeartbeatAck(seq=0, server_ts=1.0, instructions=[])))
    conn.on_message(True, encoder.encode(HeartbeatAck(seq=1, server_ts=1.0, instructions=[])))
    assert rig.kinds("heartbeat") == [None]  # only the ack of the last beat has a round trip
    rig.link.close()


def test_instructions_are_handed_over_and_confirmed(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = Conn()
    rig = Rig(monkeypatch, conn)
    rig.link.connect()
    assert conn.on_message is not None
    items = [Instruction(id="i1", kind=InstructionKind.PAUSE)]
    ack = HeartbeatAck(seq=0, server_ts=1.0, instructions=items)
    conn.on_message(True, encoder.encode(ack))
    conn.on_message(True, encoder.encode(ack))  # the first ack was lost
    assert rig.listener.events == [items, items]
    sent = [tablet_decoder.decode(raw) for raw in conn.sent]
    assert sent == [InstructionAck(ids=["i1"]), InstructionAck(ids=["i1"])]
    assert rig.link.acked == ["i1"]
    rig.link.close()


def test_pushes_reach_the_listener_and_garbage_is_a_protocol_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = Conn()
    rig = Rig(monkeypatch, conn)
    rig.link.connect()
    assert conn.on_message is not None
    welcome = Welcome(server_ts=1.0, candidate_id="C1", heartbeat_interval_s=3.0, units=[])
    launch = LaunchPush(unit_id="U1", launched_at=1.0, deadline=9.0)
    close = CloseUnitPush(unit_id="U1", closed_at=2.0)
    for msg in (welcome, launch, close):
        conn.on_message(True, encoder.encode(msg))
    assert rig.listener.events == [welcome, launch, close]
    assert rig.link.interval == 3.0
    for raw in (b"not json", b'{"type": "hb_ack"}', b'{"type": "nope"}', b'{"seq": 1}'):
        conn.on_message(True, raw)
    assert rig.kinds("message") == [FailureKind.PROTOCOL] * 4
    assert rig.listener.events == [welcome, launch, close]
    rig.link.close()


def test_a_dropped_socket_is_reconnected_in_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Conn(), Conn()
    rig = Rig(monkeypatch, first, OSError(), second)
    rig.link.connect()
    assert first.on_close is not None
    first.closed = True
    first.on_close(1006, "")
    assert FleetCounters.sockets_open == 0
    assert rig.kinds("heartbeat") == [FailureKind.DISCONNECTED]
    reconnector = rig.link._reconnector
    assert reconnector is not None
    reconnector.join(timeout=5)
    assert rig.link.reconnects == 1 and rig.socket() is second
    assert len(rig.naps) == 2  # waited before the first try too, then after the failure
    assert rig.listener.changes == 2  # dropped, back
    rig.link.close()


def test_policy_violation_logs_in_again_and_superseded_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = Conn(), Conn()
    rig = Rig(monkeypatch, first, second)
    rig.link.connect()
    assert first.on_close is not None
    first.closed = True
    first.on_close(WsClose.POLICY_VIOLATION, "bad token")
    assert rig.link._reconnector is not None
    rig.link._reconnector.join(timeout=5)
    assert rig.api.logins == 1 and rig.socket() is second
    assert second.on_close is not None
    second.on_close(WsClose.SUPERSEDED, "newer socket")
    assert rig.link._reconnector is None
    assert rig.kinds("heartbeat") == [FailureKind.PROTOCOL, FailureKind.PROTOCOL]
    rig.link.close()


def test_a_silent_server_is_detected_and_reconnected(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = Conn(), Conn()
    rig = Rig(monkeypatch, first, second)
    rig.link.connect()
    rig.link._beat()  # sent, never acknowledged
    rig.link._last_ack -= 10 * rig.link.interval
    rig.link._beat()
    assert first.closed and rig.kinds("heartbeat") == [FailureKind.TIMEOUT]
    assert rig.link._reconnector is not None
    rig.link._reconnector.join(timeout=5)
    assert rig.socket() is second and rig.link.reconnects == 1
    rig.link.close()


def test_close_stops_a_reconnect_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    first = Conn()
    rig = Rig(monkeypatch, first)
    rig.link.connect()
    assert first.on_close is not None
    first.closed = True
    first.on_close(1001, "going away")
    assert rig.link._reconnector is not None
    rig.stopping = True
    rig.link.close()
    gevent.sleep(0)
    assert rig.link._reconnector is None and rig.link.reconnects == 0
