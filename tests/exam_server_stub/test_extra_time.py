"""Extra time by kind: planned (tiers-temps) from the roster, incident time proposed and granted.

The domain with the exam's own clock (time moves when the test says), then the routes on a
real app whose every answer is checked against the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web

from exam_server_stub import jury
from exam_server_stub.bootstrap import bootstrap
from exam_server_stub.errors import ApiError
from exam_server_stub.exam import Exam
from exam_server_stub.extra_time import TIERS_META, incident_proposal
from exam_server_stub.keys import EXAM
from exam_server_stub.metrics import Metrics
from exam_server_stub.settings import ServerSettings
from exam_server_stub.store import Writer, connect
from vigie.centres import load_centres
from vigie.demo import roster
from vigie.protocol import ErrorCode
from vigie.wire.metrics import Metric

SEED = 7  # the conftest's roster
COUNTS = {"AMU": 3, "LILLE": 2, "LILLE-CATHO": 1}
SHARE, RATIO = 0.5, 1 / 3
CENTRES = load_centres(None)
# With this seed and share, the roster gives tiers-temps to all but LILLE-00002.
PLANNED = {c.candidate_id for c in roster(COUNTS, SEED, SHARE, RATIO) if c.planned_ratio}


def test_the_roster_is_deterministic_and_gives_tiers_temps_to_a_share() -> None:
    assert {"AMU-00001", "AMU-00002", "AMU-00003", "LILLE-00001", "LILLE-CATHO-00001"} == PLANNED
    assert roster(COUNTS, SEED, SHARE, RATIO) == roster(COUNTS, SEED, SHARE, RATIO)
    big = roster({"AMU": 4000}, 2022)  # the default: 3% of candidates, a third of each unit
    assert 80 < sum(1 for c in big if c.planned_ratio) < 160
    assert {c.planned_ratio for c in big} == {0.0, 1 / 3}


def test_incident_proposals_are_rounded_up_to_the_minute() -> None:
    assert [incident_proposal(s) for s in (0.4, 1.0, 59.9, 60.0, 61.0)] == [0, 60, 60, 60, 120]


def prepare(db: Path, share: float = SHARE, ratio: float = RATIO) -> None:
    """A database whose roster carries tiers-temps (as vigie serve --scenario writes it)."""
    bootstrap(db, COUNTS, SEED, CENTRES)
    conn = connect(db)
    try:
        doc = json.dumps({"share": share, "ratio": ratio})
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (TIERS_META, doc))
    finally:
        conn.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeSocket:
    closed = True  # pushes skip closed sockets


def sock() -> web.WebSocketResponse:
    return cast(web.WebSocketResponse, FakeSocket())


async def open_exam(db: Path, clock: Clock) -> Exam:
    settings = ServerSettings(db_path=db, demo_counts=COUNTS, seed=SEED)
    e = Exam(settings, CENTRES, Metrics(), clock)
    e.writer = Writer(db, asyncio.get_running_loop())
    e.writer.start()
    return e


@pytest.fixture
async def exam(tmp_path: Path) -> AsyncIterator[tuple[Exam, Clock, Path]]:
    db = tmp_path / "exam.sqlite3"
    prepare(db)
    clock = Clock()
    e = await open_exam(db, clock)
    try:
        yield e, clock, db
    finally:
        assert e.writer is not None
        await e.writer.stop()


def gauge(e: Exam, centre: str) -> float | None:
    return e.metrics.registry.get_sample_value(Metric.PLANNED_EXTRA_MISSING, {"centre": centre})


def audit_rows(db: Path, kind: str) -> list[sqlite3.Row]:
    conn = connect(db, readonly=True)
    try:
        return conn.execute("SELECT * FROM audit WHERE kind = ? ORDER BY seq", (kind,)).fetchall()
    finally:
        conn.close()


async def test_planned_time_is_applied_at_the_launch_and_survives_a_restart(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, clock, db = exam
    launched = clock.now
    await e.launch("ue1", 600, "go", "jury:test")
    u = e.units["ue1"]
    for c in e.cands.values():
        want = 200.0 if c.id in PLANNED else 0.0
        assert e.deadline(c, u, clock.now) == pytest.approx(launched + 600 + want)
        r = e.row(c, u, clock.now)
        assert (r.planned_extra_s, r.planned_due_s) == pytest.approx((want, want))
        assert r.planned_missing is False and r.extra_time_s == pytest.approx(want)
    me = e.me(e.cands["AMU-00001"], clock.now)
    assert me.extra_time["ue1"].planned_s == pytest.approx(200)
    assert me.units[0].deadline == pytest.approx(launched + 800)
    # The launch's audit says what was applied, per candidate.
    data = json.loads(audit_rows(db, "launch")[0]["data"])
    assert set(data["planned_extra_time"]) == PLANNED and data["planned_dropped"] == []
    assert gauge(e, "AMU") == 0
    assert e.writer is not None
    await e.writer.stop()
    again = await open_exam(db, clock)  # a restart reads the roster and the launch back
    try:
        c = again.cands["AMU-00002"]
        assert again.deadline(c, again.units["ue1"], clock.now) == pytest.approx(launched + 800)
        assert again.row(c, again.units["ue1"], clock.now).planned_extra_s == pytest.approx(200)
        assert again.me(c, clock.now).extra_time["ue1"].planned_s == pytest.approx(200)
    finally:
        e.writer = again.writer  # the fixture stops the live writer


async def test_a_dropped_centre_lacks_its_planned_time_with_the_alert_and_the_gauge(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, clock, db = exam
    await e.launch("ue1", 600, "go", "jury:test", planned_dropped=frozenset({"AMU"}))
    u = e.units["ue1"]
    amu = [e.row(e.cands[f"AMU-0000{i}"], u, clock.now) for i in (1, 2, 3)]
    assert all(r.planned_missing and r.planned_extra_s == 0 for r in amu)
    assert all(r.planned_due_s == pytest.approx(200) for r in amu)
    assert e.row(e.cands["LILLE-00001"], u, clock.now).planned_missing is False
    assert (gauge(e, "AMU"), gauge(e, "LILLE"), gauge(e, "NANTES")) == (3, 0, 0)
    data = json.loads(audit_rows(db, "launch")[0]["data"])
    assert data["planned_dropped"] == ["AMU"] and "AMU-00001" not in data["planned_extra_time"]
    # The jury makes it up by hand: the alert clears (time granted, whatever its kind name).
    await jury.grant_extra_time(e, "ue1", "AMU-00001", None, 200, "tiers-temps", "jury:test")
    assert e.cands["AMU-00001"] not in [c for c in e.cands.values() if e.lacks_planned(c, u)]
    assert gauge(e, "AMU") == 2
    assert e.writer is not None
    await e.writer.stop()
    again = await open_exam(db, clock)  # the restart still knows AMU was not given it
    try:
        assert again.lacks_planned(again.cands["AMU-00002"], again.units["ue1"])
        assert gauge(again, "AMU") == 2
    finally:
        e.writer = again.writer


async def test_incident_time_is_the_time_disconnected_granted_once(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, clock, db = exam
    a, b = e.cands["LILLE-00002"], e.cands["AMU-00001"]  # without, and with, tiers-temps
    socks = {c.id: sock() for c in (a, b)}
    for c in (a, b):
        e.attach(c, socks[c.id], clock.now)
    await e.launch("ue1", 600, "go", "jury:test")
    u = e.units["ue1"]
    clock.now += 5
    a.last_hb = b.last_hb = clock.now  # their last heartbeats
    e.detach(a, socks[a.id], clock.now + 10)  # found dead 10 s after it was last heard
    e.detach(b, socks[b.id], clock.now + 10)
    clock.now += 95  # 95 s away since their last heartbeat
    e.attach(a, sock(), clock.now)
    assert e.disconnected(a, u, clock.now) == pytest.approx(95)
    assert e.row(a, u, clock.now).proposed_incident_s == 120
    clock.now += 30  # b is still away: its proposal keeps counting
    [centre] = jury.incident_proposals(e, u, "AMU")
    assert [(p.candidate_id, p.proposed_s, p.to_grant_s) for p in centre.proposals] == [
        (b.id, 180, 180)
    ]
    deadline_a = e.deadline(a, u, clock.now)
    assert deadline_a is not None
    done = await jury.grant_incident_time(e, None, None, "réseau coupé", "jury:national")
    assert (done.candidates, done.seconds, done.centres) == (2, 300, ["AMU", "LILLE"])
    assert e.deadline(a, u, clock.now) == pytest.approx(deadline_a + 120)
    ra, rb = e.row(a, u, clock.now), e.row(b, u, clock.now)
    assert (ra.incident_extra_s, rb.incident_extra_s) == (120, 180)
    assert rb.planned_extra_s == pytest.approx(200) and rb.planned_missing is False
    assert rb.extra_time_s == pytest.approx(380)  # kept apart, added up in the deadline
    assert a.instructions and next(iter(a.instructions.values())).seconds == 120
    # Granting again adds nothing; b's time away since then is all a later grant adds.
    again = await jury.grant_incident_time(e, "ue1", None, "réseau coupé", "jury:national")
    assert (again.candidates, again.seconds) == (0, 0)
    clock.now += 60  # 185 s away: the next minute
    more = await jury.grant_incident_time(e, None, "AMU", "encore", "jury:centre-AMU")
    assert (more.candidates, more.seconds, b.incident["ue1"]) == (1, 60, 240)
    rows = audit_rows(db, "incident_time")
    assert [(r["centre"], json.loads(r["data"])["seconds"]) for r in rows] == [
        ("AMU", {b.id: 180}),
        ("LILLE", {a.id: 120}),
        ("AMU", {b.id: 60}),
    ]
    assert e.writer is not None
    await e.writer.stop()
    restarted = await open_exam(db, clock)
    try:
        assert restarted.cands[b.id].incident == {"ue1": 240}
        assert restarted.me(restarted.cands[a.id], clock.now).extra_time["ue1"].incident_s == 120
    finally:
        e.writer = restarted.writer


async def test_incident_time_is_refused_once_the_unit_is_closed(
    exam: tuple[Exam, Clock, Path],
) -> None:
    e, _, _ = exam
    with pytest.raises(ApiError) as not_yet:
        await jury.grant_incident_time(e, None, None, "r", "jury:national")
    assert not_yet.value.code is ErrorCode.UNIT_NOT_LAUNCHED
    await e.launch("ue1", 600, "go", "jury:test")
    await e.close_unit("ue1", "end", "jury:test")
    with pytest.raises(ApiError) as closed:
        await jury.grant_incident_time(e, "ue1", None, "r", "jury:national")
    assert closed.value.code is ErrorCode.UNIT_CLOSED


# --- the routes ------------------------------------------------------------------------
OPS = "/api/v1/operator/faults"
TOKEN = "op-token"
GRANT = "/api/v1/jury/incident-time"


async def test_the_fault_drops_a_centre_s_planned_time_and_the_jury_sees_it(
    make_api: Any, db_path: Path
) -> None:
    prepare(db_path)
    api = await make_api(operator_token=TOKEN)
    r = await api.client.post(
        OPS, json={"kind": "drop_planned_extra_time", "duration_s": 60}, headers=api.bearer(TOKEN)
    )
    assert r.status == 422 and await api.error_code(r) == "invalid_request"  # needs centres
    body = {"kind": "drop_planned_extra_time", "centres": ["NOWHERE"], "duration_s": 60}
    r = await api.client.post(OPS, json=body, headers=api.bearer(TOKEN))
    assert r.status == 404 and await api.error_code(r) == "unknown_centre"
    body["centres"] = ["LILLE"]
    r = await api.client.post(OPS, json=body, headers=api.bearer(TOKEN))
    assert r.status == 200 and (await r.json())["centres"] == ["LILLE"]
    r = await api.client.get(OPS, headers=api.bearer(TOKEN))
    assert [f["kind"] for f in (await r.json())["active"]] == ["drop_planned_extra_time"]
    unit = await api.launch(duration_s=600)
    jury_h = await api.jury()
    snap = await (await api.client.get("/api/v1/jury/snapshot", headers=jury_h)).json()
    rows = {row["id"]: row for row in snap["candidates"]}
    assert rows["LILLE-00001"]["planned_missing"] is True
    assert rows["LILLE-00001"]["planned_due_s"] == pytest.approx(200)
    assert rows["AMU-00001"]["planned_extra_s"] == pytest.approx(200)
    assert not rows["AMU-00001"]["planned_missing"] and not rows["LILLE-00002"]["planned_missing"]
    inc = await (await api.client.get("/api/v1/jury/incidents?centre=LILLE", headers=jury_h)).json()
    assert [row["id"] for row in inc["planned_missing"]] == ["LILLE-00001"]
    metrics = await (await api.client.get("/metrics")).text()
    assert f'{Metric.PLANNED_EXTRA_MISSING}{{centre="LILLE"}} 1.0' in metrics
    assert f'{Metric.PLANNED_EXTRA_MISSING}{{centre="AMU"}} 0.0' in metrics
    # The tablet counts down to its own deadline, and /me says what it is made of.
    token = await api.candidate_token("AMU-00001")
    me = await (await api.client.get("/api/v1/me", headers=api.bearer(token))).json()
    assert me["units"][0]["deadline"] == pytest.approx(unit["deadline"] + 200)
    assert me["extra_time"]["ue1"] == {"planned_s": pytest.approx(200), "incident_s": 0, "granted_s": 0}  # fmt: skip


async def test_incident_time_routes_list_and_grant_per_centre(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    exam: Exam = api.client.app[EXAM]
    clock = Clock()
    monkeypatch.setattr(exam, "clock", clock)  # the exam's clock only: nothing else moves
    token = await api.candidate_token("AMU-00001")
    ws = await api.client.ws_connect("/api/v1/ws", headers=api.bearer(token))
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"
    await api.launch(duration_s=600)
    await ws.close()
    for _ in range(100):  # bounded: the server sees the close at its own pace
        if exam.cands["AMU-00001"].disc_since is not None:
            break
        await asyncio.sleep(0.02)
    clock.now += 70
    jury_h = await api.jury()
    r = await api.client.get(GRANT, headers=jury_h)
    doc = await r.json()
    assert [(c["centre"], c["candidates"], c["to_grant_s"]) for c in doc["centres"]] == [
        ("AMU", 1, 120)
    ]
    lille = await api.jury("centre-LILLE")
    r = await api.client.post(GRANT, json={"reason": "x", "centre": "AMU"}, headers=lille)
    assert r.status == 403 and await api.error_code(r) == "forbidden"
    r = await api.client.post(GRANT, json={"reason": "coupure"}, headers=lille)  # its own centre
    assert r.status == 200 and (await r.json())["candidates"] == 0
    r = await api.client.post(GRANT, json={"centre": "AMU"}, headers=jury_h)
    assert r.status == 422  # a reason is required
    amu = await api.jury("centre-AMU")
    r = await api.client.post(GRANT, json={"reason": "coupure wifi"}, headers=amu)
    assert r.status == 200 and await r.json() == {
        "unit_id": "ue1", "candidates": 1, "seconds": 120, "centres": ["AMU"], "ts": clock.now,
    }  # fmt: skip
    r = await api.client.post(GRANT, json={"reason": "coupure wifi"}, headers=jury_h)
    assert (await r.json())["candidates"] == 0  # granted once
    doc = await (await api.client.get(GRANT, headers=amu)).json()
    [p] = doc["centres"][0]["proposals"]
    assert (p["proposed_s"], p["granted_s"], p["to_grant_s"]) == (120, 120, 0)
    timeline = await (
        await api.client.get("/api/v1/jury/candidates/AMU-00001/timeline", headers=jury_h)
    ).json()
    assert "incident_time" in [e["kind"] for e in timeline["events"]]
