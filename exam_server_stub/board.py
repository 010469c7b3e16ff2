"""Supervision: each candidate's state and row, kept current, and the sweep of silent tablets.

The second layer of :class:`~exam_server_stub.exam.Exam`: a row enters the jury's feed
only when what the jury sees changed (``refresh``), and the sweeper looks only at the
tablets silent longest (``sweep_slices``), so supervision costs nothing while tablets
heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterator

from vigie.protocol import CandidateState
from vigie.wire.http import Row

from . import extra_time as extra
from .settings import ServerSettings
from .state import Cand, UnitRt
from .supervision import ChangeLog, HeardOrder, StateCounts
from .timing import TimeRules

SWEEP_SLICE = 500  # candidates judged per slice of a sweep (about a millisecond)
# States of a connected tablet heard recently: silence moves them to late.
_FRESH = frozenset({CandidateState.IN_PROGRESS, CandidateState.PAUSED})


class Board(TimeRules):
    settings: ServerSettings
    cands: dict[str, Cand]
    counts: StateCounts
    changes: ChangeLog
    heard: HeardOrder
    cursor: int
    planned_missing: extra.PlannedMissing

    def state_of(self, c: Cand, u: UnitRt | None, now: float) -> CandidateState:
        connected = c.ws is not None
        if u is None or u.launched_at is None:
            return CandidateState.WAITING if connected else CandidateState.NOT_CONNECTED
        uid = u.unit.id
        if u.closed_at is not None and not self.in_overtime(c, u, now):
            # What the closed unit left behind first, then who is here for the next one.
            # disc_since survives the close: set during the unit, cleared only by a
            # reconnection during it (or the next launch).
            if uid not in c.finished and c.disc_since is not None:
                return CandidateState.UNFINISHED
            if connected:
                return CandidateState.WAITING
            took_part = c.was_connected or uid in c.finished
            return CandidateState.FINISHED if took_part else CandidateState.NOT_CONNECTED
        if uid in c.finished:
            return CandidateState.FINISHED
        # Connection before pause: a paused centre's lost tablets must show as lost.
        if not connected:
            return CandidateState.LOST if c.was_connected else CandidateState.NOT_CONNECTED
        age = now - (c.last_hb or now)
        if age > self.settings.lost_after_s:
            return CandidateState.LOST
        if age > self.settings.late_after_s:
            return CandidateState.LATE
        return CandidateState.PAUSED if self.paused_for(c) else CandidateState.IN_PROGRESS

    def answered_count(self, c: Cand, u: UnitRt | None) -> int:
        if u is None:
            return 0
        return len(c.answers.get(u.unit.id, ()))

    def pending_offline(self, c: Cand, u: UnitRt | None) -> int:
        """Answers the tablet counts on ``u`` and the server does not hold (yet): kept
        offline on the tablet, or on their way."""
        if u is None or c.hb_unit != u.unit.id:
            return 0
        return max(0, c.hb_answered - self.answered_count(c, u))

    def refresh(self, c: Cand, now: float, u: UnitRt | None = None) -> None:
        """Recompute the state; a row enters the feed only when what the jury sees changed."""
        if u is None:
            u = self.current_unit()
        state = self.state_of(c, u, now)
        deadline = self.deadline(c, u, now) if u is not None else None
        lacks = self.lacks_planned(c, u)
        self.planned_missing.mark(c, lacks)
        sig = (
            state,
            self.answered_count(c, u),
            round(deadline) if deadline is not None else None,
            c.reconnects,
            c.ws is not None,
            self.paused_for(c),
            self.own_pause(c),  # paused alone inside a paused centre changes the row too
            lacks,
            self.pending_offline(c, u),
        )
        if state is not c.state:
            self.counts.move(c.centre, c.state, state)
            c.state = state
        if sig != c.sig:
            c.sig = sig
            self.cursor += 1
            c.version = self.cursor
            self.changes.touch(c)

    def row(self, c: Cand, u: UnitRt | None, now: float) -> Row:
        count = len(u.unit.questions) if u is not None else 0
        answered = self.answered_count(c, u)
        disc = self.disconnected(c, u, now)
        uid = u.unit.id if u is not None else ""
        return Row(
            id=c.id,
            centre=c.centre,
            state=c.state,
            last_hb=c.last_hb,
            unit_id=u.unit.id if u is not None else None,
            position=c.position,
            answered=answered,
            question_count=count,
            progress=answered / count if count else 0.0,
            deadline=self.deadline(c, u, now) if u is not None else None,
            extra_time_s=self.extra_time(c, u) if u is not None else 0.0,
            battery=c.battery,
            network=c.network,
            reconnects=c.reconnects,
            disconnected_s=disc,
            connected=c.ws is not None,
            paused=self.paused_for(c),
            paused_alone=self.own_pause(c),
            pending_offline=self.pending_offline(c, u),
            room=c.room,
            seat=c.seat,
            last_answer_at=c.last_answer[1]
            if c.last_answer is not None and u is not None and c.last_answer[0] == uid
            else None,
            planned_extra_s=c.planned.get(uid, 0.0),
            planned_due_s=self.planned_due(c, u) if u is not None else 0.0,
            planned_missing=self.lacks_planned(c, u),
            incident_extra_s=c.incident.get(uid, 0.0),
            proposed_incident_s=extra.incident_proposal(disc),
        )

    def sweep(self, now: float) -> list[Cand]:
        """A whole sweep at once (tests, benches); the server runs :meth:`sweep_slices`."""
        silent: list[Cand] = []
        for part in self.sweep_slices(now):
            silent += part
        return silent

    def sweep_slices(self, now: float) -> Iterator[list[Cand]]:
        """Judge tablets gone quiet, a slice at a time; yields those silent past ``lost_after_s``.

        Only a connected candidate's state moves with the clock alone (in progress ->
        late -> lost), and only once it has been silent for ``late_after_s``: the
        heard order yields exactly those, so a sweep costs nothing while tablets
        heartbeat, and a candidate is refreshed only when its silence crosses the next
        threshold. Slices let the caller give the loop back to heartbeats when a whole
        network drops at once. A paused centre's rows keep the deadline of their last
        change until the resume (the row itself is computed at each read).
        """
        late_after, lost_after = self.settings.late_after_s, self.settings.lost_after_s
        u = self.current_unit()
        if self.overtime and u is not None:
            for cid in [i for i in self.overtime if not self.beyond(self.cands[i], u, now)]:
                self.overtime.discard(cid)  # their own deadline passed (or they finished)
                self.refresh(self.cands[cid], now, u)
        silent: list[Cand] = []
        for n, c in enumerate(self.heard.silent_for(late_after, now), 1):
            if c.ws is None or c.last_hb is None:
                continue  # dropped during an earlier slice: detach refreshed it
            age = now - c.last_hb
            if c.state in _FRESH or (c.state is CandidateState.LATE and age > lost_after):
                self.refresh(c, now, u)
            if age > lost_after:
                silent.append(c)
            if n % SWEEP_SLICE == 0:
                yield silent
                silent = []
                u = self.current_unit()  # a jury action may have run meanwhile
        yield silent
