"""The tablets' sockets: attach, detach, heartbeats, instruction acks and pushes.

The third layer of :class:`~exam_server_stub.exam.Exam`. Connection events are audited
with the next group commit, never awaited: none of this waits on the disk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from vigie.protocol import INCIDENT_STATES, AuditKind, DisconnectReason
from vigie.wire.ws import Heartbeat

from . import queries
from .board import Board
from .metrics import Metrics
from .reconnects import count_attach, disconnected_since
from .state import Cand, Socket
from .store import Writer

PUSH_CHUNK = 500  # sockets written concurrently per step of a launch/close push


class Sockets(Board):
    clock: Callable[[], float]
    metrics: Metrics
    writer: Writer | None
    open_ws: int
    open_by_centre: dict[str, int]
    # Why the server closes a socket, from the moment it decides to until the handler
    # audits the disconnect (the sweeper, a newer socket and the shutdown all decide).
    closing: dict[Socket, DisconnectReason]

    def close_for(self, ws: Socket, reason: DisconnectReason) -> bool:
        """Record why the server closes ``ws``; False if it is already being closed."""
        if ws in self.closing:
            return False
        self.closing[ws] = reason
        return True

    def closed_because(self, ws: Socket) -> DisconnectReason | None:
        """Why the server closed ``ws`` (forgotten once read); None: it did not."""
        return self.closing.pop(ws, None)

    def audit_later(self, c: Cand, kind: AuditKind, data: dict[str, Any]) -> None:
        """Connection events: committed with the next group, not awaited (never on a hot path)."""
        ts = self.clock()
        assert self.writer is not None
        self.writer.submit(
            lambda conn: queries.audit(
                conn, ts, kind, "candidate", data, candidate_id=c.id, centre=c.centre
            )
        )

    async def write(self, job: Callable[[sqlite3.Connection], Any]) -> Any:
        assert self.writer is not None
        return await self.writer.run(job)

    def attach(self, c: Cand, ws: Socket, now: float) -> Socket | None:
        """Register a new socket; returns the older one it supersedes, if any."""
        old = c.ws
        u = self.current_unit()
        if u is not None and u.live:  # (the restart replay knows no overtime: neither does this)
            count_attach(c, now)
        c.ws = ws
        c.last_hb = now
        self.heard.heard(c)
        if old is None:
            self.open_ws += 1
            self.open_by_centre[c.centre] = self.open_by_centre.get(c.centre, 0) + 1
            self.metrics.ws_open.labels(c.centre).inc()
        self.refresh(c, now, u)
        return old

    def detach(self, c: Cand, ws: Socket, now: float) -> bool:
        """Forget ``ws`` if it is still the candidate's socket; False if superseded."""
        if c.ws is not ws:
            return False
        c.ws = None
        self.heard.forget(c)
        self.open_ws -= 1
        self.open_by_centre[c.centre] -= 1
        self.metrics.ws_open.labels(c.centre).dec()
        u = self.current_unit()
        if u is not None and u.live and u.unit.id not in c.finished:
            c.disc_since = disconnected_since(c.last_hb, u.launched_at, now)
        self.refresh(c, now, u)
        return True

    def heartbeat(self, c: Cand, hb: Heartbeat, now: float) -> None:
        """A tablet is alive and says where it is; no write, no histogram (the hot path)."""
        c.last_hb = now
        self.heard.heard(c)  # the sweeper looks only at the least recently heard
        c.hb_unit = hb.unit_id
        c.position = hb.position
        c.battery = hb.battery
        c.network = hb.network
        counted = c.hb_answered != hb.answered
        c.hb_answered = hb.answered
        if counted or c.state in INCIDENT_STATES:
            # a late tablet that speaks again is back in progress; a new count on the
            # tablet may mean answers waiting offline (the row shows them)
            self.refresh(c, now)

    async def ack_instructions(self, c: Cand, ids: list[str]) -> None:
        done = [i for i in ids if i in c.instructions]
        if not done:
            return
        now = self.clock()

        def job(conn: sqlite3.Connection) -> None:
            queries.ack_instructions(conn, done, now)
            queries.audit(
                conn, now, AuditKind.INSTRUCTION_ACK, "candidate", {"ids": done},
                candidate_id=c.id, centre=c.centre,
            )  # fmt: skip

        await self.write(job)
        for i in done:
            c.instructions.pop(i, None)

    async def push(self, targets: Iterable[Cand], make: Callable[[Cand], str]) -> None:
        """Send to many sockets concurrently, in chunks, yielding to the loop between them."""
        batch: list[tuple[Socket, str]] = []
        for c in targets:
            if c.ws is not None:
                batch.append((c.ws, make(c)))
        for i in range(0, len(batch), PUSH_CHUNK):
            await asyncio.gather(
                *(_send(ws, text) for ws, text in batch[i : i + PUSH_CHUNK]), return_exceptions=True
            )


async def _send(ws: Socket, text: str) -> None:
    if not ws.closed:
        await ws.send_str(text)
