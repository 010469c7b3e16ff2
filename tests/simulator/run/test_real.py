"""Mixed fleets: a centre left to real tablets sits the simulated fleet's national launch.

The reduced run is real parts end to end: ``vigie serve --scenario`` and ``vigie certify``
as subprocesses, and the "real" tablets of CAEN played here by asyncio/aiohttp clients
that follow docs/protocol.md (login, websocket, heartbeats, answers, finish). Three of
CAEN's four expected tablets come (the fourth is the warning), and one of them loses its
WiFi for a few seconds during the unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import msgspec
import pytest

from scenarios import load_scenario
from simulator.record import RealCentreRun, RunRecord
from simulator.run.procs import Services
from simulator.run.real import briefing, connected_at, roster_command, tablet_url, warnings
from simulator.think import make_answer
from vigie.demo import access_code, generate_session
from vigie.wire.http import QuestionDoc

MIXED = """
name: mixed
description: "smoke, with CAEN left to real tablets"
seed: 7
centres: {AMIENS: 10, BREST: 10, CAEN: 4}
waves:
  - {name: "wave 1", centres: [AMIENS, CAEN], start_s: 0, rate_per_s: 10}
  - {name: "wave 2", centres: [BREST], start_s: 4, rate_per_s: 10}
heartbeat_interval_s: 1
time_compression: 30
think_time: {median_s: 60, sigma: 0.5, min_s: 10, max_s: 300}
exam: {launch_at_s: 8, duration_s: 600, answer_fraction: 0.3, tail_s: 4}
server: {max_connections: 0}
real_tablets: {centres: [CAEN]}
"""
SEED, ANSWERS_EACH = 7, 2
PLAYED = ["CAEN-00001", "CAEN-00002", "CAEN-00003"]  # CAEN-00004 never comes
DROPPER, AWAY_S = "CAEN-00003", 4.5  # its WiFi drops after the launch, back 4.5 s later


def vigie(*args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


class _Sitting:
    """What a tablet keeps across its sockets: the unit launched, whether it sat it."""

    def __init__(self, drops: bool) -> None:
        self.unit: str | None = None
        self.sat = False
        self.drops = drops  # drops its socket once, just after the launch


class RealTablets:
    """A faculty's tablets: log in early, heartbeat every second, and once the national
    launch is pushed answer two isolated questions (fetched in clear) and hand in."""

    def __init__(self, base: str, candidate_ids: list[str], max_s: float = 120.0) -> None:
        self.base, self.ids, self.max_s = base, candidate_ids, max_s
        self.connected: set[str] = set()
        self.stored: dict[str, int] = {cid: 0 for cid in candidate_ids}
        self.finished: set[str] = set()
        self.closes: dict[str, int | None] = {}
        self.errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),))
        self._thread.daemon = True

    def start(self, timeout_s: float = 30.0) -> RealTablets:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while len(self.connected) < len(self.ids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.connected == set(self.ids), self.errors
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession() as session:
            tasks = [asyncio.create_task(self._guarded(session, cid)) for cid in self.ids]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.max_s)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _guarded(self, session: aiohttp.ClientSession, cid: str) -> None:
        try:
            await self._tablet(session, cid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the test asserts on it: a tablet must not fail silently
            self.errors.append(f"{cid}: {exc!r}")

    async def _tablet(self, session: aiohttp.ClientSession, cid: str) -> None:
        body = {"candidate_id": cid, "centre": "CAEN", "access_code": access_code(SEED, cid)}
        async with session.post(f"{self.base}/api/v1/login", json=body) as resp:
            assert resp.status == 200, await resp.text()
            token = (await resp.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        state = _Sitting(drops=cid == DROPPER)
        assert self._stop is not None
        while await self._socket(session, headers, cid, state):
            with contextlib.suppress(TimeoutError):  # the WiFi is gone for a while, then back
                await asyncio.wait_for(self._stop.wait(), AWAY_S)

    async def _socket(
        self, session: aiohttp.ClientSession, headers: dict[str, str], cid: str, st: _Sitting
    ) -> bool:
        """One websocket, heartbeating; True when the tablet dropped it and comes back."""
        async with session.ws_connect(f"{self.base}/api/v1/ws", headers=headers) as ws:
            await ws.receive_json(timeout=10)  # welcome
            self.connected.add(cid)
            seq = 0
            assert self._stop is not None
            while not self._stop.is_set():
                seq += 1
                await ws.send_json(
                    {"type": "hb", "seq": seq, "unit_id": st.unit, "position": 0,
                     "answered": self.stored[cid], "battery": 90, "network": "wifi",
                     "client_ts": time.time()}
                )  # fmt: skip
                while True:  # pushes (launch, close_unit) may come before the ack
                    msg = await ws.receive(timeout=10)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        self.closes[cid] = ws.close_code
                        return False
                    doc = json.loads(msg.data)
                    if doc.get("type") == "launch":
                        st.unit = doc["unit_id"]
                    if doc.get("type") == "hb_ack":
                        break
                if st.unit is not None and st.drops:
                    st.drops = False
                    return True  # a second into the unit: the socket drops mid-unit
                if st.unit is not None and not st.sat:
                    st.sat = True
                    await self._sit(session, headers, st.unit, cid)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
        return False

    async def _sit(
        self, session: aiohttp.ClientSession, headers: dict[str, str], unit: str, cid: str
    ) -> None:
        found = generate_session(SEED).unit(unit)
        assert found is not None
        isolated = [q.id for q in found.questions if q.dossier_id is None][:ANSWERS_EACH]
        base = f"{self.base}/api/v1/units/{unit}"
        for qid in isolated:
            async with session.get(f"{base}/questions/{qid}", headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                question = msgspec.json.decode(await resp.read(), type=QuestionDoc)
            answer = {
                "action_id": str(uuid.uuid4()),
                "question_id": qid,
                "answer": msgspec.to_builtins(make_answer(question)),
                "final": False,
                "client_ts": time.time(),
            }
            async with session.post(f"{base}/answers", json=answer, headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                self.stored[cid] += 1
        finish = {"action_id": str(uuid.uuid4()), "client_ts": time.time()}
        async with session.post(f"{base}/finish", json=finish, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            self.finished.add(cid)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED, encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path, mixed: Path) -> Iterator[str]:
    (tmp_path / "server").mkdir()
    services = Services(tmp_path / "server")
    try:
        yield services.start_server(str(mixed))
    finally:
        services.stop()


def test_a_mixed_run_reports_the_real_tablets_apart(
    server: str, mixed: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    tablets = RealTablets(server, PLAYED).start()
    try:
        proc = vigie(
            "certify", str(mixed), "--target", server, "--report", str(report),
            "--workers", "0", "--metrics-port", "0",
        )  # fmt: skip
    finally:
        tablets.stop()
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    assert not tablets.errors and not tablets.closes  # never superseded by a simulated twin
    assert tablets.finished == set(PLAYED)
    # Told before the first wave: where to log in, the codes, the launch's time of day.
    brief = proc.stdout[: proc.stdout.index("real tablets CAEN:")]
    assert f"{server}/tablet/?centre=CAEN" in brief
    assert f"vigie demo --scenario {mixed} --centre CAEN --roster roster-CAEN.csv" in brief
    assert "national launch of ue1 at " in brief

    data = json.loads((report / "report.json").read_text())
    # The simulated fleet's verdict and reconciliation know nothing of CAEN.
    assert proc.returncode == 0, out[-4000:]
    assert data["verdict"] == "certified" and data["planned_tablets"] == 20
    rec = data["reconciliation"]
    assert rec["lost"] == 0 and rec["mismatched"] == 0 and rec["acked"] == rec["stored"] > 0
    record = RunRecord.load(report / "record.json")
    assert record.samples[-1].requests["login"] == 20
    assert record.max_sockets_open() == 20

    real = data["real_tablets"]
    assert real["judged"] is False and "not judged" in real["note"]
    (caen,) = real["centres"]
    assert caen["centre"] == "CAEN" and caen["problem"] is None
    assert (caen["expected"], caen["logged_in"], caen["connected_at_launch"]) == (4, 3, 3)
    assert caen["answers_stored"] == caen["questions_answered"] == 3 * ANSWERS_EACH
    assert caen["finished"] == 3 and caen["connected_at_end"] == 3
    # CAEN-00003's drop: one episode, back, seen lost by the watch during the unit
    assert (caen["disconnections"], caen["reconnects"]) == (1, 1)
    assert AWAY_S <= caen["disconnected_s"] <= AWAY_S + 5
    assert caen["incidents"]["lost"] == 1 and caen["incidents"]["unfinished"] == 0
    assert real["warnings"] == [
        "CAEN: 1 of the 4 expected real tablets were not connected at the national launch"
    ]
    page = (report / "report.html").read_text()
    assert "<h2>Real tablets</h2>" in page and "were not connected at the national launch" in page


def test_the_roster_command_prints_the_real_centres_access_codes(
    mixed: Path, tmp_path: Path
) -> None:
    out = tmp_path / "roster-CAEN.csv"
    proc = vigie("demo", "--scenario", str(mixed), "--centre", "CAEN", "--roster", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["candidate_id"] for r in rows] == [f"CAEN-0000{n}" for n in range(1, 5)]
    assert all(r["access_code"] == access_code(SEED, r["candidate_id"]) for r in rows)
    bad = vigie("demo", "--scenario", str(mixed), "--centre", "NICE")
    assert bad.returncode == 2 and "NICE" in bad.stderr and "Traceback" not in bad.stderr


def test_the_briefing_names_url_codes_and_the_launch(mixed: Path) -> None:
    s = load_scenario(mixed, ["real_tablets.expected=3"])
    lines = briefing(s, "mixed.yaml", ["seed=7"], "https://vigie.faculte.fr:8443/", 0.0)
    text = "\n".join(lines)
    assert "CAEN: 3 tablets expected (4 candidates)" in text
    assert tablet_url("https://vigie.faculte.fr:8443/", "CAEN") in text
    assert roster_command("mixed.yaml", ["seed=7"], "CAEN") in text
    assert "--set seed=7" in text and "(in 8 s)" in text
    assert "HTTPS" not in text  # an https address needs no warning
    assert "HTTPS" in "\n".join(briefing(s, "m", [], "http://127.0.0.1:8080", 0.0))
    assert briefing(load_scenario("smoke"), "smoke", [], "http://x", 0.0) == []


class _Event(msgspec.Struct):
    kind: str
    ts: float


def test_connected_at_follows_the_audit_order() -> None:
    events = [_Event("login", 1), _Event("connect", 2), _Event("disconnect", 5)]
    assert not connected_at(events, 1.5)
    assert connected_at(events, 4.0)
    assert not connected_at(events, 6.0)
    # a newer socket superseding the old one writes a connect and no disconnect
    assert connected_at([*events, _Event("connect", 7), _Event("connect", 8)], 9.0)


def test_absent_real_tablets_are_warnings() -> None:
    none = RealCentreRun("CAEN", candidates=4, expected=4)
    assert warnings(none) == ["CAEN: no real tablet logged in (4 expected)"]
    some = RealCentreRun("CAEN", 4, 4, logged_in=4, connected_at_launch=4)
    assert warnings(some) == []
    unread = RealCentreRun("CAEN", 4, 4, problem="the jury API could not be read")
    assert warnings(unread) == []  # the problem itself is what the report shows


def test_an_unreachable_jury_api_is_a_problem_not_a_crash(mixed: Path) -> None:
    from simulator.run.real import real_tablets_figures

    s = load_scenario(mixed)
    (caen,) = real_tablets_figures(s, "http://127.0.0.1:9")
    assert caen.centre == "CAEN" and caen.problem is not None and "read" in caen.problem
    assert caen.warnings == []
