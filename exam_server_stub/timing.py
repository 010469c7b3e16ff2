"""The time rules of the exam: which unit runs, pauses, extra time, each candidate's deadline.

Pure reads of the exam's state at a given ``now`` (no clock, no I/O): the first layer of
:class:`~exam_server_stub.exam.Exam`, which holds the state these rules read.
"""

from __future__ import annotations

from vigie.protocol import UnitState
from vigie.wire.ws import UnitInfo

from . import extra_time as extra
from .state import Cand, UnitRt


class TimeRules:
    units: dict[str, UnitRt]
    centre_extra: dict[tuple[str, str], float]  # (centre, unit) -> seconds
    pauses: dict[str, list[list[float | None]]]  # centre -> [[start, end|None]]
    cand_pauses: dict[str, list[list[float | None]]]  # candidate -> [[start, end|None]]
    # Candidates still composing the closed unit (extra time beyond the national close):
    # an index for the sweeper, which ends each one at their own deadline.
    overtime: set[str]

    def current_unit(self) -> UnitRt | None:
        """The live unit, else the last one launched, else None."""
        best: UnitRt | None = None
        for u in self.units.values():
            if u.launched_at is None:
                continue
            if u.live:
                return u
            if best is None or u.launched_at > (best.launched_at or 0.0):
                best = u
        return best

    def is_paused(self, centre: str) -> bool:
        spans = self.pauses.get(centre)
        return bool(spans) and spans[-1][1] is None  # type: ignore[index]

    def own_pause(self, c: Cand) -> bool:
        """The jury paused this candidate alone (their centre may be working)."""
        spans = self.cand_pauses.get(c.id)
        return bool(spans) and spans[-1][1] is None  # type: ignore[index]

    def paused_for(self, c: Cand) -> bool:
        """The candidate may not compose: their centre or they alone are paused."""
        return self.is_paused(c.centre) or self.own_pause(c)

    def paused_seconds(self, c: Cand, u: UnitRt, now: float) -> float:
        """Time paused during ``u``, the centre's pauses and the candidate's own merged
        (an own pause inside a centre pause is not credited twice)."""
        if u.launched_at is None:
            return 0.0
        start, end = u.launched_at, u.closed_at or now
        own = self.cand_pauses.get(c.id)
        if not own:  # the usual case: a centre's pauses never overlap one another
            total = 0.0
            for a, b in self.pauses.get(c.centre, ()):
                assert a is not None
                lo, hi = max(a, start), min(b if b is not None else now, end)
                total += max(0.0, hi - lo)
            return total
        spans = sorted(
            (max(a, start), min(b if b is not None else now, end))
            for a, b in (*self.pauses.get(c.centre, ()), *own)
            if a is not None
        )
        total, reach = 0.0, start
        for lo, hi in spans:
            lo = max(lo, reach)
            if hi > lo:
                total += hi - lo
                reach = hi
        return total

    def granted_time(self, c: Cand, u: UnitRt) -> float:
        """Extra time granted by the jury (candidate and centre), neither planned nor incident."""
        uid = u.unit.id
        return c.extra.get(uid, 0.0) + self.centre_extra.get((c.centre, uid), 0.0)

    def extra_time(self, c: Cand, u: UnitRt) -> float:
        uid = u.unit.id
        return self.granted_time(c, u) + c.planned.get(uid, 0.0) + c.incident.get(uid, 0.0)

    def planned_due(self, c: Cand, u: UnitRt) -> float:
        """The planned extra time the roster gives ``c`` on ``u`` (a share of its duration)."""
        if not c.planned_ratio or u.launched_at is None or u.deadline is None:
            return 0.0
        return c.planned_ratio * (u.deadline - u.launched_at)

    def lacks_planned(self, c: Cand, u: UnitRt | None) -> bool:
        """The deadline lacks part of the planned time (the jury's own grants may make it up)."""
        if u is None or not c.planned_ratio:
            return False
        due = self.planned_due(c, u)
        have = self.extra_time(c, u) - c.incident.get(u.unit.id, 0.0)
        return due > 0 and have < due - extra.MISSING_TOLERANCE_S

    def disconnected(self, c: Cand, u: UnitRt | None, now: float) -> float:
        """Time disconnected during ``u``: an ongoing disconnection counts up to the end of
        the candidate's own time (their finish, or their deadline before incident time:
        granting it must not lengthen what it compensates)."""
        if c.disc_since is None or u is None:
            return c.disc_total
        end = now
        deadline = self.deadline(c, u, now)
        if deadline is not None:
            end = min(end, deadline - c.incident.get(u.unit.id, 0.0))
        finished = c.finished.get(u.unit.id)
        if finished is not None:
            end = min(end, finished)
        return c.disc_total + max(0.0, end - c.disc_since)

    def proposed_incident(self, c: Cand, u: UnitRt | None, now: float) -> float:
        return extra.incident_proposal(self.disconnected(c, u, now))

    def deadline(self, c: Cand, u: UnitRt, now: float) -> float | None:
        if u.deadline is None:
            return None
        national = u.deadline + self.paused_seconds(c, u, now)
        if u.closed_at is not None:
            # The close ends the national time (early, on time or late); each candidate's
            # extra time runs on after it: the tiers-temps work on after the close.
            national = min(national, u.closed_at)
        return national + self.extra_time(c, u)

    def beyond(self, c: Cand, u: UnitRt, now: float) -> bool:
        """Still has time on the closed unit ``u`` (and has not finished it)."""
        if u.unit.id in c.finished:
            return False
        deadline = self.deadline(c, u, now)
        return deadline is not None and deadline > now

    def in_overtime(self, c: Cand, u: UnitRt, now: float) -> bool:
        return u.closed_at is not None and c.id in self.overtime and self.beyond(c, u, now)

    def running_for(self, c: Cand, u: UnitRt | None, now: float) -> bool:
        """The unit is running for this candidate: live, or closed with their time left."""
        if u is None or u.launched_at is None:
            return False
        return u.closed_at is None or self.in_overtime(c, u, now)

    def unit_json(self, c: Cand, u: UnitRt, now: float) -> UnitInfo:
        if u.closed_at is not None and not self.in_overtime(c, u, now):
            state = UnitState.CLOSED
        elif u.launched_at is not None:
            state = UnitState.LAUNCHED
        else:
            state = UnitState.SCHEDULED
        return UnitInfo(
            unit_id=u.unit.id,
            title=u.unit.title,
            kind=u.unit.kind.value,
            question_count=len(u.unit.questions),
            duration_s=(u.deadline - u.launched_at)
            if u.deadline is not None and u.launched_at is not None
            else u.unit.duration_s,
            state=state.value,
            launched_at=u.launched_at,
            deadline=self.deadline(c, u, now),
            extra_time_s=self.extra_time(c, u),
            finished=u.unit.id in c.finished,
            package_sha256=u.sha256,
            backup=u.unit.backup,
        )

    def units_json(self, c: Cand, now: float) -> list[UnitInfo]:
        return [self.unit_json(c, u, now) for u in self.units.values()]
