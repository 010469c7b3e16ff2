"""A tablet's websocket: connect, heartbeats, what the server pushes, reconnects.

Cost is what lets 12,000 tablets share a 2-core generator: the heartbeat is a libev
timer callback and the ``hb_ack`` a read-watcher callback (see
:mod:`simulator.wsclient`), so the steady state costs no greenlet switch at all. A
short-lived greenlet exists only while a dropped socket is being reconnected.

Messages are :mod:`vigie.wire.ws` Structs both ways: heartbeats and instruction acks are
encoded with the shared ``encoder``; what the server sends is decoded with
``server_decoder`` (a message that does not decode is a ``protocol`` failure, reported
under ``message``) and handed to a :class:`Listener`.

The socket sends from the tablet's centre address when the run binds them
(:mod:`simulator.faults.addresses`); a real centre outage (nftables) is then found by the
stale rule below. In a simulated outage (:mod:`simulator.faults.simulated`) the link
plays the lost network itself: no heartbeat, no reading, a stale socket given up without
a FIN, a reconnect held until the restore.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import Any, Protocol

import gevent
import msgspec

from simulator import record
from simulator.faults import simulated
from simulator.settings import FailureKind, FleetCounters, FleetSettings, TabletFailure
from simulator.wsclient import WsClosedError, WsConnection, WsHandshakeError, connect
from vigie.protocol import API_PREFIX, WsClose
from vigie.wire.ws import (
    CloseUnitPush,
    Heartbeat,
    HeartbeatAck,
    Instruction,
    InstructionAck,
    LaunchPush,
    Welcome,
    encoder,
    server_decoder,
)

from .api import Reporter, TabletApi
from .backoff import Pacer
from .failures import NETWORK_ERRORS, WS, Stopped, http_failure, network_failure, retry_after
from .state import Progress

#: A socket with no hb_ack for this many heartbeat intervals is dead (a frozen server
#: sends no FIN): drop it and reconnect.
STALE_AFTER_BEATS = 4
#: What the heartbeats say of the tablet's network (a tablet on the centre's Wi-Fi).
NETWORK = "wifi"
#: Locust name of a message from the server that does not decode.
OP_MESSAGE = "message"


class Listener(Protocol):
    """Who the socket tells about what the server pushes (hub callbacks: never block)."""

    def on_welcome(self, msg: Welcome) -> None: ...
    def on_launch(self, msg: LaunchPush) -> None: ...
    def on_close_unit(self, msg: CloseUnitPush) -> None: ...
    def on_instructions(self, items: list[Instruction]) -> list[str]:
        """Carry them out; the ids to confirm."""
        ...

    def on_link_change(self) -> None:
        """The socket dropped or came back."""
        ...


class TabletLink:
    """The websocket of one tablet; reconnects on its own until :meth:`close`."""

    __slots__ = (
        "_counted",
        "_hb_sent_at",
        "_hb_seq",
        "_last_ack",
        "_reconnector",
        "_timer",
        "acked",
        "api",
        "cfg",
        "interval",
        "listener",
        "pacer",
        "progress",
        "reconnects",
        "report",
        "seq",
        "stopping",
        "ws",
    )

    def __init__(
        self,
        cfg: FleetSettings,
        api: TabletApi,
        report: Reporter,
        pacer: Pacer,
        progress: Progress,
        listener: Listener,
        stopping: Callable[[], bool],
    ) -> None:
        self.cfg = cfg
        self.api = api
        self.report = report
        self.pacer = pacer
        self.progress = progress
        self.listener = listener
        self.stopping = stopping
        self.interval = cfg.heartbeat_interval_s
        self.ws: WsConnection | None = None
        self._counted = False
        self._timer: Any = None
        self._reconnector: gevent.Greenlet[Any, Any] | None = None
        self.seq = 0
        self._hb_sent_at = 0.0
        self._hb_seq = -1
        self._last_ack = 0.0
        self.reconnects = 0
        self.acked: list[str] = []  # instruction ids confirmed, in order (for tests)

    @property
    def up(self) -> bool:
        return self.ws is not None and not self.ws.closed

    # --- connecting ------------------------------------------------------------------------
    def open(self) -> TabletFailure | None:
        """One connection attempt, reported as ``ws_connect``; None when open, else the
        (reported) failure."""
        start = time.perf_counter()
        failure: TabletFailure
        try:
            self.api.hold_while_cut("ws connect")
            conn = connect(
                self.api.connect_host,
                self.api.port,
                f"{API_PREFIX}/ws",
                headers={"Authorization": f"Bearer {self.api.token}"},
                deflate=self.cfg.permessage_deflate,
                timeout=self.cfg.request_timeout_s,
                source=self.api.source,
            )
        except WsHandshakeError as exc:
            failure = http_failure("ws upgrade", exc.status, exc.headers, exc.body)
            if exc.status == 401:
                self.api.token = None  # the next attempt logs in again
        except (*NETWORK_ERRORS, WsClosedError) as exc:
            failure = network_failure("ws connect", exc)
        except Exception as exc:  # a garbled handshake answer
            failure = TabletFailure(FailureKind.PROTOCOL, f"ws connect: {exc!r}")
        else:
            self.report(WS, record.OP_WS_CONNECT, (time.perf_counter() - start) * 1000, 0, None)
            self._started(conn)
            return None
        self.report(WS, record.OP_WS_CONNECT, (time.perf_counter() - start) * 1000, 0, failure)
        return failure

    def _started(self, conn: WsConnection) -> None:
        self.ws = conn
        self._counted = True
        FleetCounters.socket_opened()
        self._last_ack = time.monotonic()
        self._hb_seq = -1
        conn.start(self._on_message, self._on_close)
        centre = self.api.identity.centre
        if centre in self.cfg.simulated_centres:
            simulated.join(centre, self)
            if simulated.is_cut(centre):
                conn.pause()
        # First beat after a random phase: 10,000 tablets connected in one wave must not
        # beat in lockstep.
        self._timer = gevent.get_hub().loop.timer(random.uniform(0.0, self.interval), self.interval)
        self._timer.start(self._beat)

    def connect(self, *, after_a_drop: bool = False) -> bool:
        """Connect, retrying with backoff (the server's Retry-After honoured) and logging
        in again when the token is refused; False once the tablet stops."""
        for attempt in self.pacer.attempts(stop=self.stopping, delay_first=after_a_drop):
            if self.up:
                return True
            if self.api.token is None:
                self.api.login()
            failure = self.open()
            if failure is None:
                return True
            attempt.retry_after = retry_after(failure)
        return False

    def _reconnect(self) -> None:
        try:
            if self.connect(after_a_drop=True):
                self.reconnects += 1
                self.listener.on_link_change()  # the exam flow flushes the offline answers
        except (Stopped, TabletFailure):
            pass  # stopping, or a login refused for good (reported)
        finally:
            self._reconnector = None

    def _dropped(self) -> None:
        if self._reconnector is None and not self.stopping():
            self._reconnector = gevent.spawn(self._reconnect)
        self.listener.on_link_change()

    def _socket_gone(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.close()
            self._timer = None
        if self._counted:
            self._counted = False
            FleetCounters.socket_closed()
            if self.cfg.simulated_centres:
                simulated.leave(self.api.identity.centre, self)

    def close(self) -> None:
        """Close the socket (counted exactly once) and stop reconnecting."""
        if self._reconnector is not None and self._reconnector is not gevent.getcurrent():
            self._reconnector.kill(block=False)
            self._reconnector = None
        conn, self.ws = self.ws, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(WsClosedError):
                conn.close(WsClose.NORMAL)
        self._socket_gone()

    # --- a simulated centre network (simulator.faults.simulated): hub side, never block ----
    def net_cut(self) -> None:
        if self.ws is not None and not self.ws.closed:
            self.ws.pause()

    def net_restore(self) -> None:
        if self.ws is not None and not self.ws.closed:
            self.ws.resume()

    def net_reset(self) -> None:
        if self.ws is not None and not self.ws.closed:
            self.ws.reset()  # the close callback reports it and reconnects

    def _stale(self, conn: WsConnection) -> None:
        centre = self.api.identity.centre
        if simulated.is_cut(centre):
            simulated.hold(centre, conn.detach())  # a FIN would not get through either
        else:
            conn.abort()
        self._socket_gone()
        self.report(WS, record.OP_HEARTBEAT, 0, 0, TabletFailure(FailureKind.TIMEOUT, "no hb_ack"))
        self._dropped()

    # --- hub callbacks: never block --------------------------------------------------------
    def _on_close(self, code: int, reason: str) -> None:
        self._socket_gone()
        if self.stopping():
            return
        kind = FailureKind.DISCONNECTED
        if code == WsClose.SUPERSEDED:
            kind = FailureKind.PROTOCOL  # another socket for this candidate: a fleet bug
        elif code == WsClose.POLICY_VIOLATION:
            kind = FailureKind.PROTOCOL
            self.api.token = None  # perhaps a token the server no longer accepts: log in again
        failure = TabletFailure(kind, f"socket closed: {code} {reason}")
        self.report(WS, record.OP_HEARTBEAT, 0, 0, failure)
        if code == WsClose.SUPERSEDED:
            self.listener.on_link_change()  # two sockets for one candidate: not retried
        else:
            self._dropped()

    def _beat(self) -> None:
        # libev timer: the steady-state cost of a tablet lives here
        conn = self.ws
        if conn is None or conn.closed:
            return
        now = time.monotonic()
        if self._hb_seq >= 0 and now - self._last_ack > STALE_AFTER_BEATS * self.interval:
            self._stale(conn)
            return
        self.seq += 1
        if simulated.outages and self.api.identity.centre in simulated.outages:
            # No network: the beat is lost on the way (counted as sent, for the stale rule).
            conn.pause()  # (already, unless this centre's sockets were not registered)
        else:
            if conn.paused:
                conn.resume()  # the centre is back (a socket that was not registered)
            p = self.progress
            try:
                conn.send_text(
                    encoder.encode(
                        Heartbeat(
                            seq=self.seq,
                            unit_id=p.current_unit,
                            position=p.position,
                            answered=p.answered,
                            battery=p.battery,
                            network=NETWORK,
                            client_ts=time.time(),
                        )
                    )
                )
            except WsClosedError:
                return
        if self._hb_seq < 0:
            self._last_ack = now
        self._hb_seq = self.seq
        self._hb_sent_at = now

    def _on_message(self, is_text: bool, payload: bytes) -> None:
        try:
            msg = server_decoder.decode(payload)
        except msgspec.DecodeError as exc:
            failure = TabletFailure(FailureKind.PROTOCOL, f"bad message: {exc}")
            self.report(WS, OP_MESSAGE, 0, len(payload), failure)
            return
        if type(msg) is HeartbeatAck:
            now = time.monotonic()
            self._last_ack = now
            if msg.seq == self._hb_seq:
                ms = (now - self._hb_sent_at) * 1000
                self.report(WS, record.OP_HEARTBEAT, ms, len(payload), None)
            if msg.instructions:
                self._confirm(self.listener.on_instructions(msg.instructions))
        elif type(msg) is LaunchPush:
            self.listener.on_launch(msg)
        elif type(msg) is CloseUnitPush:
            self.listener.on_close_unit(msg)
        elif type(msg) is Welcome:
            self.interval = msg.heartbeat_interval_s
            self.listener.on_welcome(msg)

    def _confirm(self, ids: list[str]) -> None:
        conn = self.ws
        if conn is None or conn.closed or not ids:
            return
        try:
            conn.send_text(encoder.encode(InstructionAck(ids=ids)))
        except WsClosedError:
            return
        self.acked.extend(i for i in ids if i not in self.acked)
