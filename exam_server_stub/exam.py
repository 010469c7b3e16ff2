"""The exam: candidates, units, time windows, answers, instructions and supervision rows.

Rules live here, free of HTTP: handlers parse and authenticate, then call these
methods, which raise :class:`ApiError` for anything refused. Every change is
written through the single writer (answers and jury actions awaited until their
commit) and applied in memory only after the commit succeeded, so a refused or
failed request leaves nothing half-written.

:class:`Exam` holds the state; its rules come in layers, one job per module, each
building on the one before: :mod:`.timing` (deadlines, pauses, extra time),
:mod:`.board` (states, rows, the sweep), :mod:`.sockets` (connections, heartbeats,
pushes), :mod:`.flow` (the candidate's answers and finish), and here the jury's unit
actions (launch, close, instructions). :mod:`.rehydrate` rebuilds it from the
database at start; every SQL statement is in :mod:`.queries`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from vigie.centres import Centre
from vigie.protocol import AuditKind, CandidateState, DisconnectReason, ErrorCode
from vigie.wire.ws import CloseUnitPush, Instruction, LaunchPush

from . import extra_time as extra
from . import queries
from .errors import ApiError
from .flow import CandidateFlow
from .metrics import Metrics
from .rehydrate import load
from .settings import ServerSettings
from .state import Cand, Socket, UnitRt
from .store import Writer
from .supervision import ChangeLog, HeardOrder, StateCounts

log = logging.getLogger(__name__)
_ENCODE = msgspec.json.Encoder().encode


def wall_clock() -> float:
    """Unix seconds, looked up at each call (so that a patched time.time is seen too)."""
    return time.time()


class Exam(CandidateFlow):
    def __init__(
        self,
        settings: ServerSettings,
        centres: Sequence[Centre],
        metrics: Metrics,
        clock: Callable[[], float] = wall_clock,
    ) -> None:
        # Every rule reads this clock, never self.clock(): tests move time instead of sleeping.
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self.centres = {c.code: c for c in centres}
        self.cands: dict[str, Cand] = {}
        self.by_centre: dict[str, list[Cand]] = {c.code: [] for c in centres}
        self.units: dict[str, UnitRt] = {}
        self.centre_extra: dict[tuple[str, str], float] = {}  # (centre, unit) -> seconds
        self.pauses: dict[str, list[list[float | None]]] = {}  # centre -> [[start, end|None]]
        self.cand_pauses: dict[str, list[list[float | None]]] = {}  # candidate -> spans
        # Candidates still composing the closed unit (extra time beyond the national close):
        # an index for the sweeper, which ends each one at their own deadline.
        self.overtime: set[str] = set()
        self.incident_lock = asyncio.Lock()  # incident grants, one at a time (idempotence)
        self.open_ws = 0
        self.closing: dict[Socket, DisconnectReason] = {}
        self.open_by_centre: dict[str, int] = dict.fromkeys(self.centres, 0)
        # Feed cursors start at the boot time in microseconds: a cursor from a previous
        # process is below the floor and gets 410 cursor_expired, never wrong rows.
        self.cursor_floor = int(self.clock() * 1_000_000)
        self.cursor = self.cursor_floor
        self.counts = StateCounts()
        self.changes = ChangeLog()
        self.heard = HeardOrder()
        for state in CandidateState:
            # Read at scrape time from the counts: nothing to update on the hot paths.
            metrics.candidates.labels(state.value).set_function(
                functools.partial(self.counts.national.__getitem__, state.value)
            )
        self.planned_missing = extra.PlannedMissing(metrics.planned_extra_missing, self.centres)
        self.writer: Writer | None = None
        self.secret = b""
        self.seed = 0  # the roster's, read from the database
        self.tiers_temps: tuple[float, float] = (0.0, 0.0)  # (share, ratio) of the roster
        load(self, settings.db_path)

    def targets(self, candidate_id: str | None, centre: str | None) -> list[Cand]:
        if candidate_id is not None:
            c = self.cands.get(candidate_id)
            if c is None:
                raise ApiError(
                    ErrorCode.UNKNOWN_CANDIDATE, f"There is no candidate {candidate_id!r}."
                )
            return [c]
        assert centre is not None
        self.check_centre(centre)
        return list(self.by_centre.get(centre, ()))

    def check_centre(self, centre: str) -> None:
        if centre not in self.centres:
            raise ApiError(ErrorCode.UNKNOWN_CENTRE, f"There is no centre {centre!r}.")

    async def launch(
        self,
        unit_id: str,
        duration_s: float | None,
        reason: str,
        actor: str,
        planned_dropped: frozenset[str] = frozenset(),
    ) -> UnitRt:
        """Launch ``unit_id`` everywhere, each candidate's planned extra time applied.

        ``planned_dropped``: centres whose planned extra time is forgotten (the
        ``drop_planned_extra_time`` fault): their candidates' deadlines lack it, which
        the supervision then shows as an alert.
        """
        u = self.unit(unit_id)
        if u.launched_at is not None:
            raise ApiError(ErrorCode.UNIT_ALREADY_LAUNCHED, f"Unit {unit_id} was already launched.")
        for other in self.units.values():
            if other.live:
                raise ApiError(
                    ErrorCode.UNIT_ALREADY_LAUNCHED,
                    f"Unit {other.unit.id} is still running: close it before launching {unit_id}.",
                )
        now = self.clock()
        prev = self.current_unit()
        pending = [
            c for cid in self.overtime if prev and self.beyond(c := self.cands[cid], prev, now)
        ]
        if pending and prev is not None:
            last = max(self.deadline(c, prev, now) or now for c in pending)
            raise ApiError(
                ErrorCode.UNIT_ALREADY_LAUNCHED,
                f"{len(pending)} candidate(s) still have extra time on unit {prev.unit.id},"
                f" until {time.strftime('%H:%M:%S', time.gmtime(last))} UTC.",
            )
        deadline = now + (duration_s if duration_s is not None else u.unit.duration_s)
        entitled = [c for c in self.cands.values() if c.planned_ratio]
        planned = {
            c.id: round(c.planned_ratio * (deadline - now), 3)
            for c in entitled
            if c.centre not in planned_dropped
        }
        dropped = sorted({c.centre for c in entitled if c.centre in planned_dropped})

        def job(conn: sqlite3.Connection) -> None:
            queries.set_launched(conn, unit_id, now, deadline)
            data = {"unit_id": unit_id, "deadline": deadline, "reason": reason}
            # What was applied, per candidate: a restart reads it back from here.
            data.update({extra.PLANNED_KEY: planned, extra.DROPPED_KEY: dropped})
            queries.audit(conn, now, AuditKind.LAUNCH, actor, data)

        await self.write(job)
        u.launched_at, u.deadline = now, deadline
        for c in entitled:
            c.planned.pop(unit_id, None)
            if c.id in planned:
                c.planned[unit_id] = planned[c.id]
        for c in self.cands.values():
            # A new unit starts every candidate's connection history afresh.
            c.was_connected = c.ws is not None
            c.disc_since, c.disc_total, c.reconnects = None, 0.0, 0
            self.refresh(c, now, u)

        def message(c: Cand) -> str:
            push = LaunchPush(unit_id=unit_id, launched_at=now, deadline=self.deadline(c, u, now))
            return _ENCODE(push).decode()

        await self.push(list(self.cands.values()), message)
        return u

    async def close_unit(
        self, unit_id: str, reason: str, actor: str, end_extra_time: bool = False
    ) -> list[dict[str, Any]]:
        """Close the national time; returns who works on after it (or who lost how much).

        A candidate with extra time keeps it: their unit ends at their own deadline.
        ``end_extra_time`` ends everyone's time now instead: each loss is written as a
        negative extra time with the reason and the juror, so it is audited, reported,
        and survives a restart.
        """
        u = self.unit(unit_id)
        if u.launched_at is None:
            raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {unit_id} is not launched.")
        if u.closed_at is not None:
            raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {unit_id} is already closed.")
        now = self.clock()
        u.closed_at = now  # tentatively, to compute the deadlines after the close
        try:
            beyond = [(c, self.deadline(c, u, now) or now) for c in self.cands.values()]
            beyond = [(c, d) for c, d in beyond if d > now and unit_id not in c.finished]
        finally:
            u.closed_at = None
        after: list[dict[str, Any]] = [
            {"candidate_id": c.id, "centre": c.centre, "deadline": d, "seconds": d - now}
            for c, d in beyond
        ]

        def job(conn: sqlite3.Connection) -> None:
            queries.set_closed(conn, unit_id, now)
            data: dict[str, Any] = {"unit_id": unit_id, "reason": reason}
            data["end_extra_time"] = end_extra_time
            data["overtime"] = [
                {"candidate_id": a["candidate_id"], "seconds": a["seconds"]} for a in after
            ]
            queries.audit(conn, now, AuditKind.CLOSE, actor, data)
            if end_extra_time:
                cut = f"extra time ended at the close: {reason}"
                queries.insert_extra_times(
                    conn,
                    [(unit_id, a["candidate_id"], a["centre"], -a["seconds"], cut, actor, now)
                     for a in after],
                )  # fmt: skip

        await self.write(job)
        u.closed_at = now
        if end_extra_time:
            for c, d in beyond:
                c.extra[unit_id] = c.extra.get(unit_id, 0.0) - (d - now)
            self.overtime = set()
        else:
            self.overtime = {c.id for c, _ in beyond}
        for c in self.cands.values():
            self.refresh(c, now, u)
        text = _ENCODE(CloseUnitPush(unit_id=unit_id, closed_at=now)).decode()
        # Tablets with time left are not told to stop: their own deadline stands.
        done = [c for c in self.cands.values() if c.id not in self.overtime]
        await self.push(done, lambda _c: text)
        return after

    async def instruct(
        self,
        cands: Sequence[Cand],
        make: Callable[[Cand, str], Instruction],
        change: Callable[[sqlite3.Connection], None],
        apply: Callable[[], None],
        now: float,
    ) -> list[Instruction]:
        """Commit a jury change, its audit and one instruction per candidate in ONE transaction.

        ``make`` builds each instruction body (with its id) before the commit, so a new
        deadline it announces is computed by the caller; ``apply`` updates memory only
        once the commit succeeded. Instructions then ride on every hb_ack until acked.
        """
        bodies = [make(c, uuid.uuid4().hex[:16]) for c in cands]

        def job(conn: sqlite3.Connection) -> None:
            change(conn)
            queries.insert_instructions(
                conn, [(b.id, c.id, _ENCODE(b), now) for b, c in zip(bodies, cands, strict=True)]
            )

        await self.write(job)
        apply()
        for b, c in zip(bodies, cands, strict=True):
            c.instructions[b.id] = b
            self.refresh(c, now)
        return bodies
