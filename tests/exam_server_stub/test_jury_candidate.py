"""The jury's actions on one candidate: pause, resume, end their time.

The domain on the exam's own clock (time moves when the test says), a restart read back
from the same SQLite file, then the routes on a real app (every answer checked against the
OpenAPI document) with their access rules.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub import jury, jury_candidate
from exam_server_stub.bootstrap import bootstrap
from exam_server_stub.errors import ApiError
from exam_server_stub.exam import Exam
from exam_server_stub.metrics import Metrics
from exam_server_stub.settings import ServerSettings
from exam_server_stub.store import Writer, connect
from vigie.centres import load_centres
from vigie.protocol import AuditKind, ErrorCode, InstructionKind

SEED = 7
COUNTS = {"AMU": 3, "LILLE": 2, "LILLE-CATHO": 1}
CENTRES = load_centres(None)
ACTOR = "jury:test"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def open_exam(db: Path, clock: Clock) -> Exam:
    e = Exam(ServerSettings(db_path=db, demo_counts=COUNTS, seed=SEED), CENTRES, Metrics(), clock)
    e.writer = Writer(db, asyncio.get_running_loop())
    e.writer.start()
    return e


@pytest.fixture
async def exam(tmp_path: Path) -> AsyncIterator[tuple[Exam, Clock, Path]]:
    db = tmp_path / "exam.sqlite3"
    bootstrap(db, COUNTS, SEED, CENTRES)
    clock = Clock()
    e = await open_exam(db, clock)
    try:
        yield e, clock, db
    finally:
        if e.writer is not None:
            await e.writer.stop()


def audit(db: Path, kind: str) -> list[sqlite3.Row]:
    conn = connect(db, readonly=True)
    try:
        return conn.execute("SELECT * FROM audit WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
    finally:
        conn.close()


def instructions(e: Exam, cid: str) -> list[InstructionKind]:
    return [InstructionKind(i.kind) for i in e.cands[cid].instructions.values()]


async def test_a_candidate_pause_is_credited_once_even_inside_a_centre_pause(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, clock, db = exam
    start = clock.now
    await e.launch("ue1", 600, "go", ACTOR)
    u, c, other = e.units["ue1"], e.cands["AMU-00001"], e.cands["AMU-00002"]
    clock.now += 60
    await jury_candidate.set_candidate_paused(e, c.id, True, "malaise", ACTOR)
    assert e.own_pause(c) and e.paused_for(c) and not e.paused_for(other)
    assert e.row(c, u, clock.now).paused and e.row(c, u, clock.now).state == "not_connected"
    assert e.row(c, u, clock.now).paused_alone and not e.row(other, u, clock.now).paused_alone
    clock.now += 30  # the whole centre pauses while the candidate is still paused
    await jury.set_paused(e, "AMU", True, "alarme incendie", ACTOR)
    # both paused: the row still tells who is paused alone too (what « Reprendre » lifts)
    assert e.row(other, u, clock.now).paused and not e.row(other, u, clock.now).paused_alone
    assert e.row(c, u, clock.now).paused_alone
    third = e.cands["AMU-00003"]  # paused alone inside the centre's pause: a new row
    before = third.version
    await jury_candidate.set_candidate_paused(e, third.id, True, "malaise", ACTOR)
    assert third.version > before and e.row(third, u, clock.now).paused_alone
    await jury_candidate.set_candidate_paused(e, third.id, False, "rétabli", ACTOR)
    clock.now += 60
    await jury.set_paused(e, "AMU", False, "fin de l'alerte", ACTOR)
    # the centre's resume reached its other candidates, not the one paused alone
    assert instructions(e, other.id)[-1] is InstructionKind.RESUME
    assert instructions(e, c.id)[-1] is InstructionKind.PAUSE
    assert e.paused_for(c) and not e.paused_for(other)
    clock.now += 30
    done = await jury_candidate.set_candidate_paused(e, c.id, False, "rétabli", ACTOR)
    assert done.paused is False and done.centre == "AMU"
    assert not e.row(c, u, clock.now).paused_alone
    assert instructions(e, c.id)[-1] is InstructionKind.RESUME
    # 120 s paused (60 s of it with the centre): credited once; the centre's 60 s to others
    assert e.deadline(c, u, clock.now) == pytest.approx(start + 600 + 120)
    assert e.deadline(other, u, clock.now) == pytest.approx(start + 600 + 60)
    kinds = {r["kind"] for r in audit(db, AuditKind.CANDIDATE_PAUSE)}
    assert kinds == {AuditKind.CANDIDATE_PAUSE}
    row = audit(db, AuditKind.CANDIDATE_RESUME)[-1]  # (AMU-00003 resumed first)
    assert row["candidate_id"] == c.id and row["centre"] == "AMU"
    assert json.loads(row["data"]) == {"reason": "rétabli", "unit_id": "ue1"}
    assert e.writer is not None
    await e.writer.stop()
    again = await open_exam(db, clock)  # a restart reads the pauses back
    try:
        c2 = again.cands[c.id]
        assert not again.own_pause(c2)
        assert again.deadline(c2, again.units["ue1"], clock.now) == pytest.approx(start + 720)
    finally:
        e.writer = again.writer


async def test_pausing_twice_or_resuming_a_working_candidate_is_refused(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, _, _ = exam
    await e.launch("ue1", 600, "go", ACTOR)
    with pytest.raises(ApiError) as info:
        await jury_candidate.set_candidate_paused(e, "AMU-00001", False, "x", ACTOR)
    assert info.value.code is ErrorCode.CANDIDATE_NOT_PAUSED
    await jury_candidate.set_candidate_paused(e, "AMU-00001", True, "x", ACTOR)
    with pytest.raises(ApiError) as info:
        await jury_candidate.set_candidate_paused(e, "AMU-00001", True, "x", ACTOR)
    assert info.value.code is ErrorCode.CANDIDATE_PAUSED
    with pytest.raises(ApiError) as info:
        await jury_candidate.set_candidate_paused(e, "NOBODY-00001", True, "x", ACTOR)
    assert info.value.code is ErrorCode.UNKNOWN_CANDIDATE


async def test_ending_a_candidates_time_writes_what_they_lose_and_survives_a_restart(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, clock, db = exam
    with pytest.raises(ApiError) as info:
        await jury_candidate.end_candidate_time(e, "LILLE-00001", "x", ACTOR)
    assert info.value.code is ErrorCode.UNIT_NOT_LAUNCHED
    start = clock.now
    await e.launch("ue1", 600, "go", ACTOR)
    clock.now += 100
    done = await jury_candidate.end_candidate_time(e, "LILLE-00001", "fraude avérée", ACTOR)
    assert done.unit_id == "ue1" and done.seconds_lost == pytest.approx(500)
    assert done.ended_at == clock.now
    u, c = e.units["ue1"], e.cands["LILLE-00001"]
    assert e.deadline(c, u, clock.now) == pytest.approx(start + 100)
    assert e.deadline(e.cands["LILLE-00002"], u, clock.now) == pytest.approx(start + 600)
    assert instructions(e, c.id)[-1] is InstructionKind.END_UNIT
    row = audit(db, AuditKind.END_TIME)[0]
    assert row["candidate_id"] == c.id and row["actor"] == ACTOR
    assert json.loads(row["data"])["seconds"] == pytest.approx(500)
    clock.now += 1
    with pytest.raises(ApiError) as info:  # nothing left to end
        await jury_candidate.end_candidate_time(e, c.id, "x", ACTOR)
    assert info.value.code is ErrorCode.OUTSIDE_TIME_WINDOW
    assert e.writer is not None
    await e.writer.stop()
    again = await open_exam(db, clock)
    try:
        assert again.deadline(again.cands[c.id], again.units["ue1"], clock.now) == pytest.approx(
            start + 100
        )
    finally:
        e.writer = again.writer


async def test_the_routes_pause_resume_and_end_within_the_jurors_scope(api: Any) -> None:
    token = await api.candidate_token("AMU-00001")
    await api.launch()
    centre, lille = await api.jury("centre-AMU"), await api.jury("centre-LILLE")
    observer = await api.jury("observer")
    path = "/api/v1/jury/candidates/AMU-00001"
    for who in (lille, observer):  # another centre's juror, a read-only one
        r = await api.client.post(f"{path}/pause", json={"reason": "x"}, headers=who)
        assert r.status == 403 and await api.error_code(r) == "forbidden"
    r = await api.client.post(f"{path}/pause", json={}, headers=centre)
    assert r.status == 422  # a reason is required
    r = await api.client.post(f"{path}/pause", json={"reason": "malaise"}, headers=centre)
    assert r.status == 200 and (await r.json())["paused"] is True
    r = await api.answer(token, "ue1-q001", {"text": "x"})
    assert r.status == 409 and await api.error_code(r) == "candidate_paused"
    other = await api.answer(await api.candidate_token("AMU-00002"), "ue1-q001", {"text": "x"})
    assert other.status == 200  # their centre works on
    r = await api.client.post(f"{path}/resume", json={"reason": "ok"}, headers=centre)
    assert r.status == 200
    r = await api.client.post(f"{path}/resume", json={"reason": "ok"}, headers=centre)
    assert r.status == 409 and await api.error_code(r) == "candidate_not_paused"
    r = await api.client.post(f"{path}/end", json={"reason": "fraude"}, headers=lille)
    assert r.status == 403
    r = await api.client.post(f"{path}/end", json={"reason": "fraude"}, headers=centre)
    assert r.status == 200 and (await r.json())["seconds_lost"] > 0
    r = await api.answer(token, "ue1-q001", {"text": "x"})
    assert r.status == 409 and await api.error_code(r) == "outside_time_window"
    # the centre's procès-verbal material reports the three, with the candidate
    doc = await (await api.client.get("/api/v1/jury/incidents", headers=centre)).json()
    mine = [(e["kind"], e["candidate_id"]) for e in doc["events"] if e["candidate_id"]]
    assert mine == [
        ("candidate_pause", "AMU-00001"), ("candidate_resume", "AMU-00001"),
        ("end_time", "AMU-00001"),
    ]  # fmt: skip
    r = await api.client.post(
        "/api/v1/jury/candidates/NOBODY-00001/pause", json={"reason": "x"}, headers=await api.jury()
    )
    assert r.status == 404 and await api.error_code(r) == "unknown_candidate"


async def test_a_reason_category_is_kept_beside_the_reason_and_checked(api: Any) -> None:
    await api.launch()
    jury = await api.jury()
    r = await api.client.post(
        "/api/v1/jury/candidates/AMU-00001/pause",
        json={"reason": "malaise", "category": "candidate"},
        headers=jury,
    )
    assert r.status == 200
    r = await api.client.post(
        "/api/v1/jury/centres/LILLE/pause",
        json={"reason": "alarme", "category": "weather"},  # not one of the four
        headers=jury,
    )
    assert r.status == 422 and await api.error_code(r) == "invalid_request"
    r = await api.client.post(
        "/api/v1/jury/extra-time",
        json={"unit_id": "ue1", "centre": "LILLE", "seconds": 300, "reason": "coupure",
              "category": "technical"},
        headers=jury,
    )  # fmt: skip
    assert r.status == 200
    doc = await (
        await api.client.get("/api/v1/jury/candidates/AMU-00001/timeline", headers=jury)
    ).json()
    pause = next(e for e in doc["events"] if e["kind"] == "candidate_pause")
    assert pause["data"]["reason"] == "malaise" and pause["data"]["category"] == "candidate"


async def test_a_database_made_before_the_backup_units_gets_them_at_the_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.sqlite3"
    bootstrap(db, COUNTS, SEED, CENTRES)
    conn = connect(db)
    conn.execute("DELETE FROM units WHERE id IN ('ue-secours', 'lca-secours')")
    conn.close()
    e = await open_exam(db, Clock())
    try:
        assert {"ue-secours", "lca-secours"} <= set(e.units)
        assert e.units["ue-secours"].unit.backup and not e.units["ue1"].unit.backup
        conn = connect(db, readonly=True)
        try:
            stored = {r["id"] for r in conn.execute("SELECT id FROM units")}
        finally:
            conn.close()
        assert {"ue-secours", "lca-secours"} <= stored  # their keys are kept from now on
    finally:
        assert e.writer is not None
        await e.writer.stop()
