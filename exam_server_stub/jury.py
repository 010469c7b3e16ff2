"""Jury actions that reach tablets as instructions: pause, resume, extra time, messages."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from vigie.protocol import AuditKind, ErrorCode, InstructionKind
from vigie.wire.http import (
    AuditEvent,
    CentreProposals,
    ExtraTimeResult,
    IncidentProposal,
    IncidentTimeResult,
    MessageResult,
    PauseResult,
)
from vigie.wire.ws import Instruction

from . import queries
from .errors import ApiError
from .exam import Exam
from .state import Cand, UnitRt


async def set_paused(
    exam: Exam, centre: str, paused: bool, reason: str, actor: str, category: str | None = None
) -> PauseResult:
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
            queries.insert_pause(conn, centre, now)
            data: dict[str, Any] = {
                **queries.motive(reason, category),
                "unit_id": live.unit.id if live is not None else None,
            }
        else:
            queries.end_pause(conn, centre, now)
            data = queries.motive(reason, category)
        queries.audit(conn, now, kind.value, actor, data, centre=centre)

    def apply() -> None:
        if paused:
            exam.pauses.setdefault(centre, []).append([now, None])
        else:
            exam.pauses[centre][-1][1] = now

    cands = exam.by_centre.get(centre, [])
    if not paused:  # a candidate the jury paused alone stays paused
        cands = [c for c in cands if not exam.own_pause(c)]
    await exam.instruct(cands, make, change, apply, now)
    return PauseResult(centre=centre, paused=paused, ts=now)


async def grant_extra_time(
    exam: Exam,
    unit_id: str,
    candidate_id: str | None,
    centre: str | None,
    seconds: float,
    reason: str,
    actor: str,
    category: str | None = None,
) -> ExtraTimeResult:
    u = exam.unit(unit_id)
    if u.closed_at is not None:
        raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {unit_id} is closed.")
    cands = exam.targets(candidate_id, centre)
    now = exam.clock()
    # Kept on candidate grants too, so that a centre's incident report finds them.
    target_centre = centre if centre is not None else cands[0].centre

    def make(c: Cand, iid: str) -> Instruction:
        return _extra_time(iid, unit_id, seconds, reason, exam.deadline(c, u, now))

    def change(conn: sqlite3.Connection) -> None:
        queries.insert_extra_times(
            conn, [(unit_id, candidate_id, target_centre, seconds, reason, actor, now)]
        )
        data = {"unit_id": unit_id, "seconds": seconds, **queries.motive(reason, category)}
        queries.audit(
            conn,
            now,
            AuditKind.EXTRA_TIME,
            actor,
            data,
            candidate_id=candidate_id,
            centre=target_centre,
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


def incident_proposals(exam: Exam, u: UnitRt, centre: str | None) -> list[CentreProposals]:
    """Per centre, every candidate with time disconnected during ``u`` and what to grant."""
    now = exam.clock()
    out: list[CentreProposals] = []
    for code, cands in exam.by_centre.items():
        if centre is not None and code != centre:
            continue
        props = []
        for c in cands:
            disc = exam.disconnected(c, u, now)
            if disc <= 0:
                continue
            proposed = exam.proposed_incident(c, u, now)
            granted = c.incident.get(u.unit.id, 0.0)
            props.append(
                IncidentProposal(
                    candidate_id=c.id,
                    disconnected_s=disc,
                    proposed_s=proposed,
                    granted_s=granted,
                    to_grant_s=max(0.0, proposed - granted),
                )
            )
        if props:
            todo = [p for p in props if p.to_grant_s > 0]
            out.append(
                CentreProposals(
                    centre=code,
                    candidates=len(todo),
                    to_grant_s=sum(p.to_grant_s for p in todo),
                    proposals=props,
                )
            )
    return out


async def grant_incident_time(
    exam: Exam, unit_id: str | None, centre: str | None, reason: str, actor: str
) -> IncidentTimeResult:
    """Grant each candidate's proposed incident time, less what was already granted.

    Idempotent: the proposals and the grants are both per candidate, so a second grant
    (or one racing the first: they run one at a time) adds only what was disconnected
    since. One ``incident_time`` audit row per centre records what each candidate got.
    """
    async with exam.incident_lock:
        u = _running_unit(exam, unit_id)
        if centre is not None:
            exam.check_centre(centre)
        now = exam.clock()
        uid = u.unit.id
        adds: dict[str, float] = {}
        cands: list[Cand] = []
        for code, pool in exam.by_centre.items():
            if centre is not None and code != centre:
                continue
            for c in pool:
                more = exam.proposed_incident(c, u, now) - c.incident.get(uid, 0.0)
                if more > 0:
                    adds[c.id] = more
                    cands.append(c)
        by_centre: dict[str, dict[str, float]] = {}
        for c in cands:
            by_centre.setdefault(c.centre, {})[c.id] = adds[c.id]

        def make(c: Cand, iid: str) -> Instruction:
            return _extra_time(iid, uid, adds[c.id], reason, exam.deadline(c, u, now))

        def change(conn: sqlite3.Connection) -> None:
            for code, seconds in by_centre.items():
                data = {"unit_id": uid, "reason": reason, "seconds": seconds}
                queries.audit(conn, now, AuditKind.INCIDENT_TIME, actor, data, centre=code)

        def apply() -> None:
            for c in cands:
                c.incident[uid] = c.incident.get(uid, 0.0) + adds[c.id]

        if cands:
            await exam.instruct(cands, make, change, apply, now)
        return IncidentTimeResult(
            unit_id=uid,
            candidates=len(cands),
            seconds=sum(adds.values()),
            centres=sorted(by_centre),
            ts=now,
        )


def _running_unit(exam: Exam, unit_id: str | None) -> UnitRt:
    if unit_id is not None:
        u = exam.unit(unit_id)
    else:
        current = exam.current_unit()
        if current is None:
            raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, "No unit was launched yet.")
        u = current
    if u.launched_at is None:
        raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, f"Unit {u.unit.id} is not launched.")
    if u.closed_at is not None:
        raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {u.unit.id} is closed.")
    return u


async def send_message(
    exam: Exam,
    candidate_id: str | None,
    centre: str | None,
    text: str,
    reason: str,
    actor: str,
    category: str | None = None,
) -> MessageResult:
    cands = exam.targets(candidate_id, centre)
    now = exam.clock()

    def make(c: Cand, iid: str) -> Instruction:
        return Instruction(id=iid, kind=InstructionKind.MESSAGE, text=text, reason=reason)

    def change(conn: sqlite3.Connection) -> None:
        target_centre = centre if centre is not None else cands[0].centre
        queries.audit(
            conn, now, AuditKind.MESSAGE, actor, {"text": text, **queries.motive(reason, category)},
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
    rows = queries.candidate_audit(conn, c.id)
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


def _extra_time(
    iid: str, unit_id: str, seconds: float, reason: str, deadline: float | None
) -> Instruction:
    """The extra-time instruction a tablet gets: the seconds added, and its new deadline."""
    return Instruction(
        id=iid,
        kind=InstructionKind.EXTRA_TIME,
        unit_id=unit_id,
        seconds=seconds,
        reason=reason,
        deadline=deadline + seconds if deadline is not None else None,
    )
