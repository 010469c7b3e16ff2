"""The jury's actions on one candidate: pause, resume, end their time now.

A candidate's own pause is kept apart from their centre's (the two can overlap, and the
time credited back is their union: :meth:`~.timing.TimeRules.paused_seconds`); a centre's
resume leaves a candidate paused alone still paused. Ending a candidate's time writes
the time lost as a negative extra time, with the reason and the juror, so that it is
audited, reported, and survives a restart, as the close's ``end_extra_time`` does.
"""

from __future__ import annotations

import sqlite3

from vigie.protocol import AuditKind, ErrorCode, InstructionKind
from vigie.wire.http import CandidatePauseResult, EndTimeResult
from vigie.wire.ws import Instruction

from . import queries
from .errors import ApiError
from .exam import Exam
from .state import Cand, UnitRt


def _candidate(exam: Exam, candidate_id: str) -> Cand:
    return exam.targets(candidate_id, None)[0]


async def set_candidate_paused(
    exam: Exam,
    candidate_id: str,
    paused: bool,
    reason: str,
    actor: str,
    category: str | None = None,
) -> CandidatePauseResult:
    """Pause or resume one candidate: one transaction, one instruction to their tablet."""
    c = _candidate(exam, candidate_id)
    if paused and exam.own_pause(c):
        raise ApiError(ErrorCode.CANDIDATE_PAUSED, f"Candidate {c.id} is already paused.")
    if not paused and not exam.own_pause(c):
        raise ApiError(ErrorCode.CANDIDATE_NOT_PAUSED, f"Candidate {c.id} is not paused.")
    now = exam.clock()
    u = exam.current_unit()
    live = u if u is not None and exam.running_for(c, u, now) else None
    kind = AuditKind.CANDIDATE_PAUSE if paused else AuditKind.CANDIDATE_RESUME
    # Their centre still paused: the tablet stays on its pause screen until the centre resumes.
    told = [c] if paused or not exam.is_paused(c.centre) else []

    def make(cand: Cand, iid: str) -> Instruction:
        deadline = exam.deadline(cand, live, now) if live is not None and not paused else None
        return Instruction(
            id=iid,
            kind=InstructionKind.PAUSE if paused else InstructionKind.RESUME,
            reason=reason,
            unit_id=live.unit.id if live is not None else None,
            deadline=deadline,
        )

    def change(conn: sqlite3.Connection) -> None:
        if paused:
            queries.insert_candidate_pause(conn, c.id, now)
        else:
            queries.end_candidate_pause(conn, c.id, now)
        data = {
            **queries.motive(reason, category),
            "unit_id": live.unit.id if live is not None else None,
        }
        queries.audit(conn, now, kind.value, actor, data, candidate_id=c.id, centre=c.centre)

    def apply() -> None:
        if paused:
            exam.cand_pauses.setdefault(c.id, []).append([now, None])
        else:
            exam.cand_pauses[c.id][-1][1] = now

    if told:
        # An open pause counts up to now: the resume's deadline already credits it back.
        await exam.instruct(told, make, change, apply, now)
    else:
        await exam.write(change)
        apply()
    exam.refresh(c, now)
    return CandidatePauseResult(candidate_id=c.id, centre=c.centre, paused=paused, ts=now)


async def end_candidate_time(
    exam: Exam, candidate_id: str, reason: str, actor: str, category: str | None = None
) -> EndTimeResult:
    """End one candidate's time on the unit running for them, now: the seconds they lose
    are written as a negative extra time, and their tablet ends the unit."""
    c = _candidate(exam, candidate_id)
    now = exam.clock()
    u = _running(exam, c, now)
    deadline = exam.deadline(c, u, now) or now
    lost = max(0.0, deadline - now)
    uid = u.unit.id

    def make(cand: Cand, iid: str) -> Instruction:
        return Instruction(
            id=iid, kind=InstructionKind.END_UNIT, unit_id=uid, reason=reason, deadline=now
        )

    def change(conn: sqlite3.Connection) -> None:
        cut = f"time ended by the jury: {reason}"
        queries.insert_extra_times(conn, [(uid, c.id, c.centre, -lost, cut, actor, now)])
        data = {"unit_id": uid, "seconds": lost, **queries.motive(reason, category)}
        queries.audit(
            conn, now, AuditKind.END_TIME, actor, data, candidate_id=c.id, centre=c.centre
        )

    def apply() -> None:
        c.extra[uid] = c.extra.get(uid, 0.0) - lost

    await exam.instruct([c], make, change, apply, now)
    return EndTimeResult(
        candidate_id=c.id, centre=c.centre, unit_id=uid, seconds_lost=lost, ended_at=now
    )


def _running(exam: Exam, c: Cand, now: float) -> UnitRt:
    u = exam.current_unit()
    if u is None or u.launched_at is None:
        raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, "No unit was launched yet.")
    if u.unit.id in c.finished:
        raise ApiError(ErrorCode.UNIT_FINISHED, f"Candidate {c.id} finished unit {u.unit.id}.")
    if not exam.running_for(c, u, now):
        raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {u.unit.id} is over for candidate {c.id}.")
    deadline = exam.deadline(c, u, now)
    if deadline is not None and deadline <= now:
        raise ApiError(ErrorCode.OUTSIDE_TIME_WINDOW, f"Candidate {c.id}'s time is already over.")
    return u
