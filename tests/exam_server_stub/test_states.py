"""What the jury's states say at the moments that matter: a loss, a pause, the close, between units.

Issue 10: a lost tablet read « Terminé » after the close, tablets waiting for the next
unit read « Terminé », a pause hid losses, and the time proposed as extra time started
when the loss was declared instead of at the last heartbeat heard.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web

from exam_server_stub import jury
from exam_server_stub.bootstrap import bootstrap
from exam_server_stub.episodes import episodes
from exam_server_stub.errors import ApiError
from exam_server_stub.exam import Exam
from exam_server_stub.metrics import Metrics
from exam_server_stub.settings import ServerSettings
from exam_server_stub.store import Writer, connect
from vigie.centres import load_centres
from vigie.protocol import AuditKind, CandidateState, ErrorCode
from vigie.wire.http import Row

COUNTS = {"AMU": 3, "LILLE": 1}
CENTRES = load_centres(None)


class FakeSocket:
    closed = True  # pushes skip closed sockets: nothing is sent


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("states") / "template.sqlite3"
    bootstrap(path, COUNTS, 5, CENTRES)
    return path


@pytest.fixture
async def exam(template: Path, tmp_path: Path) -> AsyncIterator[tuple[Exam, Clock]]:
    db = tmp_path / "exam.sqlite3"
    shutil.copy(template, db)
    clock = Clock()  # the exam's own: time moves when the test says, nothing is patched
    e = Exam(ServerSettings(db_path=db, demo_counts=COUNTS, seed=5), CENTRES, Metrics(), clock)
    e.writer = Writer(db, asyncio.get_running_loop())
    e.writer.start()
    try:
        yield e, clock
    finally:
        await e.writer.stop()


def sock() -> web.WebSocketResponse:
    return cast(web.WebSocketResponse, FakeSocket())


def states(e: Exam) -> dict[str, str]:
    return {c.id: c.state.value for c in e.cands.values() if c.centre == "AMU"}


def row(e: Exam, cid: str, now: float) -> Row:
    return e.row(e.cands[cid], e.current_unit(), now)


async def test_a_tablet_lost_at_the_close_is_unfinished_and_waiting_tablets_wait(
    exam: tuple[Exam, Clock],
) -> None:
    e, clock = exam
    a, b, c = (e.cands[f"AMU-0000{i}"] for i in (1, 2, 3))
    sockets = {x.id: sock() for x in (a, b)}
    for x in (a, b):
        e.attach(x, sockets[x.id], clock.now)
    assert set(states(e).values()) == {"waiting", "not_connected"}
    await e.launch("ue1", 600, "go", "jury:test")
    clock.now += 2
    b_seen = b.last_hb
    e.detach(b, sockets.pop(b.id), clock.now)
    clock.now += 30
    await e.close_unit("ue1", "end", "jury:test")
    # The lost tablet never finished: it is not « Terminé », and it says when it was last seen.
    assert states(e) == {a.id: "waiting", b.id: "unfinished", c.id: "not_connected"}
    assert e.counts.doc("AMU")["centres"]["AMU"]["unfinished"] == 1
    r = row(e, b.id, clock.now)
    assert r.connected is False and r.last_hb == b_seen
    # It stays unfinished whatever its tablet does until the next unit is launched...
    e.attach(b, sock(), clock.now)
    assert b.state is CandidateState.UNFINISHED and row(e, b.id, clock.now).connected
    # ... while the others connecting for the next unit show as waiting, at once.
    e.attach(c, sock(), clock.now)
    assert c.state is CandidateState.WAITING
    for x in (a, b, c):
        x.last_hb = clock.now  # their heartbeats
    await e.launch("ue2", 600, "go", "jury:test")
    assert set(states(e).values()) == {"in_progress"}


async def test_a_candidate_who_finished_and_left_reads_finished(exam: tuple[Exam, Clock]) -> None:
    e, clock = exam
    a = e.cands["AMU-00001"]
    s = sock()
    e.attach(a, s, clock.now)
    await e.launch("ue1", 600, "go", "jury:test")
    await e.finish(a, "ue1", "fin-1", clock.now)
    e.detach(a, s, clock.now + 1)
    await e.close_unit("ue1", "end", "jury:test")
    assert a.state is CandidateState.FINISHED


async def test_a_pause_does_not_hide_losses(exam: tuple[Exam, Clock]) -> None:
    e, clock = exam
    a, b, c = (e.cands[f"AMU-0000{i}"] for i in (1, 2, 3))
    sockets = {x.id: sock() for x in (a, b)}
    for x in (a, b):
        e.attach(x, sockets[x.id], clock.now)
    await e.launch("ue1", 600, "go", "jury:test")
    await jury.set_paused(e, "AMU", True, "alarme incendie", "jury:test")
    assert states(e) == {a.id: "paused", b.id: "paused", c.id: "not_connected"}
    clock.now += 1
    e.detach(b, sockets.pop(b.id), clock.now)
    assert b.state is CandidateState.LOST  # at once, not at the resume
    assert row(e, b.id, clock.now).paused is True
    assert row(e, c.id, clock.now).paused is True and c.state is CandidateState.NOT_CONNECTED
    # A silent tablet of a paused centre goes late then lost like any other.
    e.sweep(clock.now + e.settings.late_after_s + 1)
    assert states(e)[a.id] == "late"
    e.sweep(clock.now + e.settings.lost_after_s + 1)
    assert states(e)[a.id] == "lost"


async def test_time_disconnected_counts_from_the_last_heartbeat_heard(
    exam: tuple[Exam, Clock],
) -> None:
    e, clock = exam
    a = e.cands["AMU-00001"]
    s = sock()
    e.attach(a, s, clock.now)
    await e.launch("ue1", 600, "go", "jury:test")
    heard = clock.now + 5
    a.last_hb = heard
    # The sweeper closes the socket lost_after_s after the last heartbeat...
    closed_at = heard + e.settings.lost_after_s + 1
    e.detach(a, s, closed_at)
    # ... but the tablet has been silent since its last heartbeat: 45 s, not 29 s.
    assert row(e, a.id, heard + 45).disconnected_s == pytest.approx(45)


async def test_incidents_are_episodes_kept_after_they_end(exam: tuple[Exam, Clock]) -> None:
    e, clock = exam
    a, b, c = (e.cands[f"AMU-0000{i}"] for i in (1, 2, 3))
    lille = e.cands["LILLE-00001"]
    sockets = {x.id: sock() for x in (a, b, c, lille)}

    def connect_(x: Any) -> None:
        sockets[x.id] = sock()
        e.attach(x, sockets[x.id], clock.now)
        e.audit_later(x, AuditKind.CONNECT, {})

    def drop(x: Any, reason: str) -> None:
        assert e.detach(x, sockets.pop(x.id), clock.now)
        e.audit_later(
            x, AuditKind.DISCONNECT, {"reason": reason, "code": 4002, "last_hb": x.last_hb}
        )

    for x in (a, b, c, lille):
        connect_(x)
    await e.launch("ue1", 600, "go", "jury:test")
    t0 = clock.now
    a.last_hb = t0 + 1
    clock.now = t0 + 17  # closed for silence 16 s after its last heartbeat
    drop(a, "heartbeat_timeout")
    clock.now = t0 + 60
    connect_(a)  # back: the episode is over, and must stay in the report
    clock.now = t0 + 100
    b.last_hb = t0 + 100
    drop(b, "network")  # never back
    await e.finish(c, "ue1", "fin-c", clock.now)
    clock.now = t0 + 120
    drop(c, "client_close")  # went home after finishing: not an incident
    clock.now = t0 + 300
    await e.close_unit("ue1", "end", "jury:test")
    await e.write(lambda conn: None)  # the connection rows are committed with a later group
    conn = connect(e.settings.db_path, readonly=True)
    try:
        found = episodes(conn, "AMU", clock.now + 50)
        national = episodes(conn, None, clock.now + 50)
    finally:
        conn.close()
    assert [(x["candidate_id"], x["cause"]) for x in found] == [
        (a.id, "heartbeat_timeout"),
        (b.id, "network"),
    ]
    ended, away = found
    assert ended["unit_id"] == "ue1" and ended["centre"] == "AMU"
    assert ended["start"] == pytest.approx(t0 + 1) and ended["end"] == pytest.approx(t0 + 60)
    assert ended["duration_s"] == pytest.approx(59) and not ended["unfinished"]
    assert away["end"] is None and away["unfinished"] and not away["ongoing"]
    assert away["duration_s"] == pytest.approx(200)  # up to the close, not up to now
    assert len(national) == 2  # LILLE had no incident


async def test_closing_the_unit_does_not_cut_extra_time(exam: tuple[Exam, Clock]) -> None:
    e, clock = exam
    a, b = e.cands["AMU-00001"], e.cands["AMU-00002"]
    for x in (a, b):
        e.attach(x, sock(), clock.now)
    await e.launch("ue1", 600, "go", "jury:test")
    await jury.grant_extra_time(e, "ue1", b.id, None, 300, "tiers-temps", "jury:test")
    clock.now += 600  # the scheduled end
    a.last_hb = b.last_hb = clock.now
    after = await e.close_unit("ue1", "fin", "jury:test")
    # The close names who works on, and for how long; they keep their time.
    assert [(x["candidate_id"], round(x["seconds"])) for x in after] == [(b.id, 300)]
    assert a.state is CandidateState.WAITING and b.state is CandidateState.IN_PROGRESS
    e.check_window(b, e.units["ue1"], clock.now + 1)  # b may still answer
    with pytest.raises(ApiError) as refused:
        e.check_window(a, e.units["ue1"], clock.now + 1)
    assert refused.value.code is ErrorCode.UNIT_CLOSED
    assert e.unit_json(b, e.units["ue1"], clock.now).state == "launched"
    assert e.unit_json(a, e.units["ue1"], clock.now).state == "closed"
    # The next unit waits for the last tiers-temps.
    with pytest.raises(ApiError) as early:
        await e.launch("ue2", 600, "go", "jury:test")
    assert early.value.code is ErrorCode.UNIT_ALREADY_LAUNCHED and "1 candidate" in str(early.value)
    # A restart keeps b working.
    again = Exam(e.settings, CENTRES, Metrics(), clock)
    assert again.overtime == {b.id} and again.cands[b.id].state is CandidateState.NOT_CONNECTED
    # At b's own deadline, the sweeper ends the unit for b.
    clock.now += 301
    b.last_hb = clock.now
    e.sweep(clock.now)
    assert states(e)[b.id] == "waiting" and not e.overtime
    with pytest.raises(ApiError):
        e.check_window(b, e.units["ue1"], clock.now)
    await e.launch("ue2", 600, "go", "jury:test")


async def test_ending_extra_time_at_the_close_is_explicit_and_recorded(
    exam: tuple[Exam, Clock],
) -> None:
    e, clock = exam
    b = e.cands["AMU-00002"]
    e.attach(b, sock(), clock.now)
    await e.launch("ue1", 600, "go", "jury:test")
    await jury.grant_extra_time(e, "ue1", b.id, None, 300, "tiers-temps", "jury:test")
    clock.now += 600
    b.last_hb = clock.now
    cut = await e.close_unit("ue1", "évacuation", "jury:test", end_extra_time=True)
    assert [(x["candidate_id"], round(x["seconds"])) for x in cut] == [(b.id, 300)]
    assert not e.overtime and b.state is CandidateState.WAITING
    assert e.deadline(b, e.units["ue1"], clock.now) == pytest.approx(clock.now)
    again = Exam(e.settings, CENTRES, Metrics(), clock)  # the loss survives a restart
    assert not again.overtime
    assert again.deadline(again.cands[b.id], again.units["ue1"], clock.now) == pytest.approx(
        clock.now
    )
