"""Jury actions that reach tablets as instructions: pause, resume, extra time, messages."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson

from vigie.protocol import ErrorCode, InstructionKind

from .errors import ApiError
from .exam import Exam
from .state import Cand, UnitRt


def _live_unit(exam: Exam) -> UnitRt:
    u = exam.current_unit()
    if u is None or not u.live:
        raise ApiError(ErrorCode.UNIT_NOT_LAUNCHED, "No unit is running.")
    return u


async def pause_centre(exam: Exam, centre: str, reason: str, actor: str) -> dict[str, Any]:
    exam.check_centre(centre)
    if exam.is_paused(centre):
        raise ApiError(ErrorCode.CENTRE_PAUSED, f"Centre {centre} is already paused.")
    u = exam.current_unit()
    unit_id = u.unit.id if u is not None and u.live else None
    now = time.time()
    cands = exam.by_centre.get(centre, [])

    def make(c: Cand, iid: str) -> dict[str, Any]:
        body: dict[str, Any] = {"id": iid, "kind": InstructionKind.PAUSE.value, "reason": reason}
        if unit_id is not None:
            body["unit_id"] = unit_id
        return body

    def change(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO pauses (centre, paused_at) VALUES (?, ?)", (centre, now))
        exam._audit(
            conn, now, "pause", actor, {"reason": reason, "unit_id": unit_id}, centre=centre
        )

    def apply() -> None:
        exam.pauses.setdefault(centre, []).append([now, None])

    await exam.instruct(cands, make, change, apply, now)
    return {"centre": centre, "paused": True, "ts": now}


async def resume_centre(exam: Exam, centre: str, reason: str, actor: str) -> dict[str, Any]:
    exam.check_centre(centre)
    if not exam.is_paused(centre):
        raise ApiError(ErrorCode.CENTRE_NOT_PAUSED, f"Centre {centre} is not paused.")
    u = exam.current_unit()
    now = time.time()
    cands = exam.by_centre.get(centre, [])

    def make(c: Cand, iid: str) -> dict[str, Any]:
        body: dict[str, Any] = {"id": iid, "kind": InstructionKind.RESUME.value, "reason": reason}
        if u is not None and u.live:
            # Paused time is credited back: the deadline moved on while the centre waited.
            body["unit_id"] = u.unit.id
            body["deadline"] = exam.deadline(c, u, now)
        return body

    def change(conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE pauses SET resumed_at = ? WHERE centre = ? AND resumed_at IS NULL",
            (now, centre),
        )
        exam._audit(conn, now, "resume", actor, {"reason": reason}, centre=centre)

    def apply() -> None:
        exam.pauses[centre][-1][1] = now

    await exam.instruct(cands, make, change, apply, now)
    return {"centre": centre, "paused": False, "ts": now}


async def grant_extra_time(
    exam: Exam,
    unit_id: str,
    candidate_id: str | None,
    centre: str | None,
    seconds: float,
    reason: str,
    actor: str,
) -> dict[str, Any]:
    u = exam.unit(unit_id)
    if u.closed_at is not None:
        raise ApiError(ErrorCode.UNIT_CLOSED, f"Unit {unit_id} is closed.")
    cands = exam.targets(candidate_id, centre)
    now = time.time()
    # Kept on candidate grants too, so that a centre's incident report finds them.
    target_centre = centre if centre is not None else cands[0].centre

    def make(c: Cand, iid: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": iid,
            "kind": InstructionKind.EXTRA_TIME.value,
            "unit_id": unit_id,
            "seconds": seconds,
            "reason": reason,
        }
        deadline = exam.deadline(c, u, now)
        if deadline is not None:
            body["deadline"] = deadline + seconds
        return body

    def change(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO extra_time (unit_id, candidate_id, centre, seconds, reason, actor, ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (unit_id, candidate_id, target_centre, seconds, reason, actor, now),
        )
        data = {"unit_id": unit_id, "seconds": seconds, "reason": reason}
        exam._audit(
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
    return {"unit_id": unit_id, "seconds": seconds, "candidates": len(bodies), "ts": now}


async def send_message(
    exam: Exam, candidate_id: str | None, centre: str | None, text: str, reason: str, actor: str
) -> dict[str, Any]:
    cands = exam.targets(candidate_id, centre)
    now = time.time()

    def make(c: Cand, iid: str) -> dict[str, Any]:
        return {"id": iid, "kind": InstructionKind.MESSAGE.value, "text": text, "reason": reason}

    def change(conn: sqlite3.Connection) -> None:
        target_centre = centre if centre is not None else cands[0].centre
        exam._audit(
            conn, now, "message", actor, {"text": text, "reason": reason},
            candidate_id=candidate_id, centre=target_centre,
        )  # fmt: skip

    bodies = await exam.instruct(cands, make, change, lambda: None, now)
    return {"candidates": len(bodies), "ts": now}


def timeline(conn: sqlite3.Connection, c: Cand) -> list[dict[str, Any]]:
    """The candidate's own events, plus jury actions on its centre and national ones."""
    rows = conn.execute(
        "SELECT seq, ts, client_ts, kind, actor, centre, candidate_id, data FROM audit"
        " WHERE candidate_id = ? OR candidate_id IS NULL ORDER BY seq",
        (c.id,),
    )
    return [
        {
            "seq": r["seq"],
            "ts": r["ts"],
            "client_ts": r["client_ts"],
            "kind": r["kind"],
            "actor": r["actor"],
            "data": orjson.loads(r["data"]),
        }
        for r in rows
        if r["candidate_id"] is not None or r["centre"] in (None, c.centre)
    ]
