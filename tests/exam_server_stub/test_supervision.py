"""Incremental supervision: counts, change log and sweeper equal a full recomputation.

Random sequences of what happens during an exam (sockets opening and dropping,
heartbeats, the clock moving, launch, close, pauses, extra time, finishes) run
against a real :class:`Exam` on a real SQLite file; after each step the kept
counts must equal a recount, every state must equal a fresh judgement at that
time, and the change log must return exactly the rows whose version moved.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from exam_server_stub import jury
from exam_server_stub.bootstrap import bootstrap
from exam_server_stub.errors import ApiError
from exam_server_stub.exam import Exam
from exam_server_stub.metrics import Metrics
from exam_server_stub.settings import ServerSettings
from exam_server_stub.store import Writer
from exam_server_stub.supervision import recount
from exam_server_stub.ws import _handle
from vigie.centres import load_centres
from vigie.protocol import AuditKind, ErrorCode

COUNTS = {"AMU": 3, "LILLE": 3, "BREST": 2}
CENTRES = load_centres(None)
N = sum(COUNTS.values())


class FakeSocket:
    """Stands for a tablet's socket: pushes skip closed sockets, so nothing is sent."""

    closed = True


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("supervision") / "template.sqlite3"
    bootstrap(path, COUNTS, 5, CENTRES)
    return path


idx = st.integers(0, N - 1)
centre = st.sampled_from(sorted(COUNTS))
step = st.one_of(
    st.tuples(st.just("connect"), idx),
    st.tuples(st.just("drop"), idx),
    st.tuples(st.just("hb"), idx),
    st.tuples(st.just("tick"), st.floats(0.0, 12.0)),
    st.tuples(st.just("launch")),
    st.tuples(st.just("close")),
    st.tuples(st.just("pause"), centre),
    st.tuples(st.just("resume"), centre),
    st.tuples(st.just("extra"), idx),
    st.tuples(st.just("finish"), idx),
)


def hb(seq: int) -> str:
    doc = {
        "type": "hb",
        "seq": seq,
        "unit_id": None,
        "position": 1,
        "answered": 0,
        "battery": 50,
        "network": "wifi",
        "client_ts": 0.0,
    }
    return orjson.dumps(doc).decode()


async def run_steps(db: Path, steps: list[tuple[Any, ...]]) -> None:
    clock = [time.time()]
    s = ServerSettings(db_path=db, demo_counts=COUNTS, seed=5)
    exam = Exam(s, CENTRES, Metrics(), lambda: clock[0])  # the exam's own clock
    writer = Writer(db, asyncio.get_running_loop())
    writer.start()
    exam.writer = writer
    cands = list(exam.cands.values())
    sockets: dict[str, Any] = {}
    units = iter(("ue1", "ue2", "ue3"))
    try:
        for n, op in enumerate(steps):
            since = exam.cursor
            clock[0] += 0.001  # two launches never share a timestamp in real life
            await apply(exam, op, cands, sockets, units, clock, n)
            exam.sweep(clock[0])
            check(exam, since, clock[0])
    finally:
        await writer.stop()
    check_replay(exam, Exam(s, CENTRES, Metrics(), lambda: clock[0]), db)


def check_replay(live: Exam, restarted: Exam, db: Path) -> None:
    """A restart (as after kill -9) rebuilds each connection history from the audit."""
    conn = sqlite3.connect(db)
    last_audit = conn.execute("SELECT ts FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    conn.close()
    for c in live.cands.values():
        r = restarted.cands[c.id]
        assert (r.was_connected, r.reconnects) == (c.was_connected, c.reconnects), c.id
        assert r.disc_total == pytest.approx(c.disc_total), c.id
        if c.ws is not None and c.disc_since is None and r.disc_since is not None:
            # Connected at the crash: cut off at the last moment the server was alive.
            assert r.disc_since == last_audit[0]
        else:
            assert r.disc_since == c.disc_since, c.id


async def apply(
    exam: Exam,
    op: tuple[Any, ...],
    cands: list[Any],
    sockets: dict[str, Any],
    units: Any,
    clock: list[float],
    n: int,
) -> None:
    kind = op[0]
    u = exam.current_unit()
    if kind == "connect":
        c = cands[op[1]]
        ws = cast(web.WebSocketResponse, FakeSocket())
        sockets[c.id] = ws
        exam.attach(c, ws, clock[0])
        exam.audit_later(c, AuditKind.CONNECT, {})  # as the websocket handler does
    elif kind == "drop":
        c = cands[op[1]]
        if c.id in sockets and exam.detach(c, sockets.pop(c.id), clock[0]):
            exam.audit_later(c, AuditKind.DISCONNECT, {"last_hb": c.last_hb})
    elif kind == "hb":
        c = cands[op[1]]
        if c.ws is not None:
            await _handle(exam, c, hb(n))
    elif kind == "tick":
        clock[0] += op[1]
    elif kind == "launch" and (u is None or not u.live):
        unit_id = next(units, None)
        if unit_id is not None:
            refused: ApiError | None = None
            try:
                await exam.launch(unit_id, 600, "go", "jury:test")
            except ApiError as exc:  # someone still has extra time on the closed unit
                refused = exc
            assert refused is None or (
                refused.code is ErrorCode.UNIT_ALREADY_LAUNCHED and exam.overtime
            )
    elif kind == "close" and u is not None and u.live:
        await exam.close_unit(u.unit.id, "end", "jury:test")
    elif kind == "pause" and not exam.is_paused(op[1]):
        await jury.set_paused(exam, op[1], True, "fire drill", "jury:test")
    elif kind == "resume" and exam.is_paused(op[1]):
        await jury.set_paused(exam, op[1], False, "over", "jury:test")
    elif kind == "extra" and u is not None and u.live:
        c = cands[op[1]]
        await jury.grant_extra_time(exam, u.unit.id, c.id, None, 60, "tablet", "jury:test")
    elif kind == "finish" and u is not None and u.live:
        await exam.finish(cands[op[1]], u.unit.id, uuid.uuid4().hex, clock[0])


def check(exam: Exam, since: int, now: float) -> None:
    u = exam.current_unit()
    for c in exam.cands.values():
        assert c.state is exam.state_of(c, u, now), c.id
    assert exam.counts.doc(None) == recount(exam.cands.values())
    for code in COUNTS:
        mine = [c for c in exam.cands.values() if c.centre == code]
        assert exam.counts.doc(code)["centres"] == {code: recount(mine)["national"]}
    changed = [c.id for c in exam.cands.values() if c.version > since]
    assert sorted(c.id for c in exam.changes.since(since)) == sorted(changed)
    for code in COUNTS:
        got = [c.id for c in exam.changes.since(since, code)]
        assert sorted(got) == sorted(i for i in changed if exam.cands[i].centre == code)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=30))
# Histories random draws rarely hit: a drop after finishing, connected across a
# launch and a close, still connected at the crash, silent long enough to be lost.
@example(steps=[("connect", 0), ("launch",), ("finish", 0), ("drop", 0), ("connect", 0)])
@example(
    steps=[
        *[("connect", 1), ("launch",), ("drop", 1), ("tick", 3.0), ("connect", 1)],
        *[("close",), ("drop", 1), ("connect", 1), ("launch",), ("drop", 1), ("connect", 1)],
    ]
)
@example(steps=[("connect", 2), ("connect", 3), ("launch",), ("tick", 11.0), ("hb", 3)])
@example(steps=[("connect", 2), ("launch",), ("pause", "AMU"), ("tick", 16.0), ("resume", "AMU")])
# Extra time beyond the close: the candidate works on, then ends at their own deadline.
@example(steps=[("connect", 0), ("launch",), ("extra", 0), ("close",), ("tick", 12.0), ("launch",)])
def test_incremental_supervision_equals_a_full_recount(
    template: Path, tmp_path: Path, steps: list[tuple[Any, ...]]
) -> None:
    db = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
    shutil.copy(template, db)
    try:
        asyncio.run(asyncio.wait_for(run_steps(db, steps), timeout=60))
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


async def test_a_quiet_sweep_touches_nobody_and_a_silent_tablet_is_found(
    template: Path, tmp_path: Path
) -> None:
    db = tmp_path / "sweep.sqlite3"
    shutil.copy(template, db)
    clock = [time.time()]
    s = ServerSettings(db_path=db, demo_counts=COUNTS, seed=5)
    exam = Exam(s, CENTRES, Metrics(), lambda: clock[0])
    now = clock[0]
    cands = list(exam.cands.values())
    for c in cands:
        exam.attach(c, cast(web.WebSocketResponse, FakeSocket()), now)
    assert exam.sweep(now + exam.settings.late_after_s / 2) == []
    # Everyone but the second speaks again later (the first connected first: a sweep
    # that stopped at it would miss the silent one behind it).
    clock[0] = now + 10
    for c in cands[:1] + cands[2:]:
        await _handle(exam, c, hb(1))
    later = now + exam.settings.lost_after_s + 1
    assert exam.sweep(later) == [cands[1]]
    assert [c.id for c in exam.heard.silent_for(exam.settings.late_after_s, later)] == [cands[1].id]


async def test_feed_returns_exactly_the_changed_rows_per_centre(api: Any) -> None:
    c = api.client
    observer, amu = await api.jury("observer"), await api.jury("centre-AMU")
    lille = await api.jury("centre-LILLE")
    snap = await (await c.get("/api/v1/jury/snapshot", headers=observer)).json()
    token = await api.candidate_token("AMU-00002")
    ws = await c.ws_connect(f"/api/v1/ws?token={token}")
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"

    async def feed(headers: dict[str, str], since: int) -> dict[str, Any]:
        r = await c.get(f"/api/v1/jury/changes?since={since}", headers=headers)
        assert r.status == 200, await r.text()
        doc: dict[str, Any] = await r.json()
        return doc

    national = await feed(observer, snap["cursor"])
    assert [(row["id"], row["state"]) for row in national["candidates"]] == [
        ("AMU-00002", "waiting")
    ]
    assert national["counts"]["national"]["waiting"] == 1
    assert national["counts"]["centres"]["LILLE"]["not_connected"] == 2
    mine = await feed(amu, snap["cursor"])
    assert [row["id"] for row in mine["candidates"]] == ["AMU-00002"]
    assert mine["counts"]["national"] == mine["counts"]["centres"]["AMU"]
    assert set(mine["counts"]["centres"]) == {"AMU"} and mine["counts"]["national"]["waiting"] == 1
    metrics = await (await c.get("/metrics")).text()
    assert 'vigie_candidates{state="waiting"} 1.0' in metrics  # read from the kept counts
    assert 'vigie_candidates{state="not_connected"} 5.0' in metrics
    theirs = await feed(lille, snap["cursor"])
    assert theirs["candidates"] == [] and set(theirs["counts"]["centres"]) == {"LILLE"}
    # A heartbeat changes nothing the jury sees: the row does not enter the feed again.
    await ws.send_str(hb(1))
    assert (await ws.receive_json(timeout=5))["type"] == "hb_ack"
    assert (await feed(observer, national["cursor"]))["candidates"] == []
    await ws.close()


async def test_a_row_shows_the_answers_the_tablet_holds_that_the_server_lacks(api: Any) -> None:
    c = api.client
    jury = await api.jury("observer")
    token = await api.candidate_token("AMU-00001")
    await api.launch()
    ws = await c.ws_connect(f"/api/v1/ws?token={token}")
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"

    async def row() -> dict[str, Any]:
        snap = await (await c.get("/api/v1/jury/snapshot?centre=AMU", headers=jury)).json()
        found: dict[str, Any] = next(r for r in snap["candidates"] if r["id"] == "AMU-00001")
        return found

    before = await row()
    assert before["pending_offline"] == 0 and before["last_answer_at"] is None
    assert (before["room"], before["seat"]) == ("Salle 1", "01")  # from the roster
    r = await api.answer(token, "ue1-q001", {"text": "x"})
    assert r.status == 200
    stored = (await r.json())["server_ts"]
    # the tablet says three answered on ue1: two wait offline (or on their way)
    doc = json.loads(hb(1)) | {"unit_id": "ue1", "answered": 3}
    await ws.send_str(json.dumps(doc))
    assert (await ws.receive_json(timeout=5))["type"] == "hb_ack"
    after = await row()
    assert after["pending_offline"] == 2 and after["last_answer_at"] == stored
    # a heartbeat of another unit on screen says nothing about ue1
    await ws.send_str(json.dumps(doc | {"seq": 2, "unit_id": None, "answered": 0}))
    assert (await ws.receive_json(timeout=5))["type"] == "hb_ack"
    assert (await row())["pending_offline"] == 0
    await ws.close()
