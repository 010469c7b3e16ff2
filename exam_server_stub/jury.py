"""Jury actions that reach tablets as instructions: pause, resume, extra time, messages."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from vigie.protocol import ErrorCode, InstructionKind
from vigie.wire.http import AuditEvent, ExtraTimeResult, MessageResult, PauseResult
from vigie.wire.ws import Instruction

from . import store
from .errors import ApiError
from .exam import Exam
from .state import Cand


async def set_paused(exam: Exam, centre: str, paused: bool, reason: str, actor: str) -> PauseResult:
    """Pause or resume a centre: one transaction, one instruction per tablet."""
    exam.check_centre(centre)
    if paused and exam.is_paused(centre):
        raise ApiError(ErrorCode.CENTRE_PAUSED, f"Centre {centre} is already paused.")
    if not paused and not exam.is_paused(centre):
        raise ApiError(ErrorCode.CENTRE_NOT_PAUSED, f"Centre {centre} is not paused.")
    u = exam.current_unit()
    live = u if u is not None and u.live else None
    now = exam.clock()
    kind = InstructionKind.PAUSE if paused else InstructionKind.RESUME

    def make(c: Cand, iid: str) -> Instruction:
        # On resume, paused time is credited back: the deadline moved on while the centre waited.
        deadline = exam.deadline(c, live, now) if live is not None and not paused else None
        return Instruction(
            id=iid,
            kind=kind,
            reason=reason,
            unit_id=live.unit.id if live is not None else None,
            deadline=deadline,
        )

    def change(conn: sqlite3.Connection) -> None:
        if paused:
            conn.execute("INSERT INTO pauses (centre, paused_at) VALUES (?, ?)", (centre, now))
            data: dict[str, Any] = {
                "reason": reason,
                "unit_id": live.unit.id if live is not None else None,
            }
        else:
            conn.execute(
                "UPDATE pauses SET resumed_at = ? WHERE centre = ? AND resumed_at IS NULL",
                (now, centre),
            )
            data = {"reason": reason}
        store.audit(conn, now, kind.value, actor, data, centre=centre)

    def apply() -> None:
        if paused:
            exam.pauses.setdefault(centre, []).append([now, None])
        else:
            exam.pauses[centre][-1][1] = now

    await exam.instruct(exam.by_centre.get(centre, []), make, change, apply, now)
    return PauseResult(centre=centre, paused=paused, ts=now)


async def grant_extra_time(
    exam: Exam,
    unit_id: str,
    candidate_id: str | None,
    centre: str | None,
    seconds: float,
    reason: str,
    actor: str,
) -> ExtraTimeResult:
    u = exam.unit(unit_id)
    if u.closed_at is not None:
        raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {unit_id} is closed.")
    cands = exam.targets(candidate_id, centre)
    now = exam.clock()
    # Kept on candidate grants too, so that a centre's incident report finds them.
    target_centre = centre if centre is not None else cands[0].centre

    def make(c: Cand, iid: str) -> Instruction:
        deadline = exam.deadline(c, u, now)
        return Instruction(
            id=iid,
            kind=InstructionKind.EXTRA_TIME,
            unit_id=unit_id,
            seconds=seconds,
            reason=reason,
            deadline=deadline + seconds if deadline is not None else None,
        )

    def change(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO extra_time (unit_id, candidate_id, centre, seconds, reason, actor, ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (unit_id, candidate_id, target_centre, seconds, reason, actor, now),
        )
        data = {"unit_id": unit_id, "seconds": seconds, "reason": reason}
        store.audit(
            conn, now, "extra_time", actor, data, candidate_id=candidate_id, centre=target_centre
        )

    def apply() -> None:
        if candidate_id is not None:
            c = cands[0]
            c.extra[unit_id] = c.extra.get(unit_id, 0.0) + seconds
        else:
            assert centre is not None
            key = (centre, unit_id)
            exam.centre_extra[key] = exam.centre_extra.get(key, 0.0) + seconds

    bodies = await exam.instruct(cands, make, change, apply, now)
    return ExtraTimeResult(unit_id=unit_id, seconds=seconds, candidates=len(bodies), ts=now)


async def send_message(
    exam: Exam, candidate_id: str | None, centre: str | None, text: str, reason: str, actor: str
) -> MessageResult:
    cands = exam.targets(candidate_id, centre)
    now = exam.clock()

    def make(c: Cand, iid: str) -> Instruction:
        return Instruction(id=iid, kind=InstructionKind.MESSAGE, text=text, reason=reason)

    def change(conn: sqlite3.Connection) -> None:
        target_centre = centre if centre is not None else cands[0].centre
        store.audit(
            conn, now, "message", actor, {"text": text, "reason": reason},
            candidate_id=candidate_id, centre=target_centre,
        )  # fmt: skip

    bodies = await exam.instruct(cands, make, change, lambda: None, now)
    return MessageResult(candidates=len(bodies), ts=now)


ANSWERS_VIEWED = "answers_viewed"  # audit kind: a national juror read a candidate's answers


def _masked(data: dict[str, Any], answers: bool) -> dict[str, Any]:
    if answers or "answer" not in data:
        return data
    return {k: v for k, v in data.items() if k != "answer"}


def timeline(conn: sqlite3.Connection, c: Cand, *, answers: bool = False) -> list[AuditEvent]:
    """The candidate's own events, plus jury actions on its centre and national ones.

    Answer contents are left out unless ``answers`` (a national juror's audited reveal).
    """
    rows = conn.execute(
        "SELECT seq, ts, client_ts, kind, actor, centre, candidate_id, data FROM audit"
        " WHERE candidate_id = ? OR candidate_id IS NULL ORDER BY seq",
        (c.id,),
    )
    return [
        AuditEvent(
            seq=r["seq"],
            ts=r["ts"],
            client_ts=r["client_ts"],
            kind=r["kind"],
            actor=r["actor"],
            data=_masked(orjson.loads(r["data"]), answers),
        )
        for r in rows
        if r["candidate_id"] is not None or r["centre"] in (None, c.centre)
    ]
