"""Centre network faults against a real exam server (``vigie serve``) and real tablets.

The tablets run in a driver subprocess (Locust patches the process with gevent) that also
holds the run's centre network; this process plays the jury over HTTP from 127.0.0.1 (a
socket outside the run's addresses: it must keep working during a cut) and reads the
server's supervision and audit trail. nftables is used for real: in CI (``CI=true``) a
machine where it cannot run fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.faults.nft import TABLE_FAMILY, list_tables, table_name, unavailable_reason
from vigie.testing import ServerProcess, wait_for

DRIVER = Path(__file__).with_name("driver.py")
UNIT = "ue1"
HEARTBEAT_S = 1.0
LATE_S, LOST_S = 2.0, 4.0
#: the tablet's own stale rule: 4 heartbeats without an ack (simulator/tablet/link.py)
TABLET_STALE_S = 4 * HEARTBEAT_S


def scenario_yaml(mode: str) -> str:
    return f"""
name: net-{mode}
seed: 7
centres: {{AMIENS: 2, BREST: 2}}
waves:
  - {{name: "wave 1", centres: [AMIENS, BREST], start_s: 0, rate_per_s: 10}}
heartbeat_interval_s: {HEARTBEAT_S}
think_time: {{median_s: 600, sigma: 0.1, min_s: 300, max_s: 900}}
exam: {{unit_id: {UNIT}, launch_at_s: 1, duration_s: 3600}}
fleet: {{request_timeout_s: 3, reconnect_base_s: 0.2, reconnect_max_s: 1}}
server: {{late_after_s: {LATE_S}, lost_after_s: {LOST_S}}}
faults:
  - {{kind: centre_outage, centres: [AMIENS], at_s: 10, duration_s: 30, mode: {mode}}}
  - {{kind: reconnect_loop, centres: [BREST], at_s: 10, duration_s: 30, every_s: 10, mode: {mode}}}
"""


def need_nft() -> None:
    why = unavailable_reason()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs the centre network faults with nftables: {why}")
    pytest.skip(f"nftables unavailable here: {why}")


class Jury:
    def __init__(self, url: str) -> None:
        self.url = url
        self.token = self.call(
            "POST", "/jury/login", {"username": "national", "password": "national-demo"}
        )["token"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            f"{self.url}/api/v1{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                **(
                    {"Authorization": f"Bearer {self.token}"}
                    if getattr(self, "token", None)
                    else {}
                ),
            },
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def states(self) -> dict[str, str]:
        return {r["id"]: r["state"] for r in self.call("GET", "/jury/snapshot")["candidates"]}

    def events(self, cid: str, kind: str) -> list[dict[str, Any]]:
        doc = self.call("GET", f"/jury/candidates/{cid}/timeline")
        return [e["data"] for e in doc["events"] if e["kind"] == kind]


class Fleet:
    """The driver subprocess: four tablets (AMIENS-1/2, BREST-1/2) and the run's network."""

    def __init__(self, scenario: Path, url: str, mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), str(scenario), url, mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"the driver died:\n{err[-3000:]}")
        return dict(json.loads(line))

    def do(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def quit(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def rig(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Jury, Fleet]]:
    mode: str = request.param
    scenario = tmp_path / f"net-{mode}.yaml"
    scenario.write_text(scenario_yaml(mode))
    with ServerProcess(tmp_path / "exam.sqlite3", ["--scenario", str(scenario)]) as server:
        fleet = Fleet(scenario, server.url, mode)
        try:
            wait_for("four sockets open", lambda: fleet.do("status")["open"] == 4, 30)
            jury = Jury(server.url)
            jury.call("POST", f"/jury/units/{UNIT}/launch", {"reason": "test", "duration_s": 3600})
            wait_for(
                "every candidate in progress",
                lambda: set(jury.states().values()) == {"in_progress"},
                15,
            )
            yield jury, fleet
        finally:
            fleet.quit()


def tablets(fleet: Fleet, centre: str) -> dict[str, dict[str, Any]]:
    return {c: t for c, t in fleet.do("status")["tablets"].items() if t["centre"] == centre}


def check_outage(jury: Jury, fleet: Fleet) -> None:
    """AMIENS cut: the server finds it late then lost by its own thresholds and closes the
    sockets for silence (no FIN came); each tablet finds its socket dead by itself; BREST
    and the jury (127.0.0.1) never notice."""
    amiens = ["AMIENS-00001", "AMIENS-00002"]
    fleet.do("cut AMIENS")
    seen: dict[str, list[str]] = {c: [] for c in amiens}

    def watch() -> bool:
        states = jury.states()
        assert states["BREST-00001"] == states["BREST-00002"] == "in_progress"
        for c in amiens:
            if not seen[c] or seen[c][-1] != states[c]:
                seen[c].append(states[c])
        return all(seen[c][-1] == "lost" for c in amiens)

    took = wait_for("AMIENS lost", watch, LOST_S + 6)
    assert took >= LATE_S - HEARTBEAT_S
    for c in amiens:
        assert seen[c][-2:] == ["late", "lost"], seen
    wait_for(
        "the server closes the silent sockets",
        lambda: all(jury.events(c, "disconnect") for c in amiens),
        20,
    )
    for c in amiens:
        assert [d["reason"] for d in jury.events(c, "disconnect")] == ["heartbeat_timeout"]
    wait_for(
        "each AMIENS tablet finds its socket dead",
        lambda: not any(t["up"] for t in tablets(fleet, "AMIENS").values()),
        TABLET_STALE_S + 4,
        lambda: fleet.do("status"),
    )
    status = fleet.do("status")
    assert any("no hb_ack" in k for k in status["failures"]), status["failures"]
    assert all(t["up"] for t in tablets(fleet, "BREST").values())

    fleet.do("restore AMIENS")
    wait_for(
        "AMIENS back",
        lambda: all(t["up"] and t["reconnects"] >= 1 for t in tablets(fleet, "AMIENS").values()),
        15,
    )
    wait_for("AMIENS in progress", lambda: set(jury.states().values()) == {"in_progress"}, 10)


def check_reset(jury: Jury, fleet: Fleet) -> None:
    """BREST reset: the tablets see a RST and reconnect; the server a dropped socket."""
    before = {c: len(jury.events(c, "disconnect")) for c in ("BREST-00001", "BREST-00002")}
    fleet.do("reset BREST")
    wait_for(
        "BREST reconnected",
        lambda: all(t["up"] and t["reconnects"] >= 1 for t in tablets(fleet, "BREST").values()),
        10,
    )
    for c, n in before.items():
        reasons = [d["reason"] for d in jury.events(c, "disconnect")][n:]
        assert reasons == ["network"], reasons  # dropped without a close frame
    assert fleet.do("status")["open"] == 4


def check_sources(jury: Jury, fleet: Fleet) -> None:
    """Each centre's tablets reach the server from their own range, HTTP included."""
    base = fleet.ready["base"]
    for k, centre in enumerate(("AMIENS", "BREST"), start=1):
        for cid, tablet in tablets(fleet, centre).items():
            assert tablet["source"].startswith(f"127.{base}.{k}.")
            assert jury.events(cid, "connect")[0]["remote"] == tablet["source"]
            assert jury.events(cid, "login")[0]["remote"] == f"127.{base}.{k}.254"


@pytest.mark.parametrize("rig", ["nftables"], indirect=True)
def test_nftables_cut_and_reset_are_real_network_faults(rig: tuple[Jury, Fleet]) -> None:
    need_nft()
    jury, fleet = rig
    table = fleet.ready["table"]
    assert table in list_tables()
    ruleset = subprocess.run(
        ["nft", "list", "table", TABLE_FAMILY, table], capture_output=True, text=True, check=True
    ).stdout
    own = f"127.{fleet.ready['base']}.0.0/16"
    rules = [line for line in ruleset.splitlines() if line.strip().endswith("drop")]
    assert len(rules) == 2
    assert all(own in rule for rule in rules)  # every rule is bounded to the run's addresses
    check_sources(jury, fleet)
    check_outage(jury, fleet)
    check_reset(jury, fleet)
    fleet.do("close")
    assert table not in list_tables()


@pytest.mark.parametrize("rig", ["simulated"], indirect=True)
def test_simulated_cut_and_reset_through_the_custom_message(rig: tuple[Jury, Fleet]) -> None:
    jury, fleet = rig
    assert fleet.ready["table"] is None
    check_outage(jury, fleet)
    check_reset(jury, fleet)


def test_a_dead_run_table_is_removed_at_the_next_start(tmp_path: Path) -> None:
    need_nft()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = table_name(11, dead.pid).replace("_t0_", "_t1_")  # a pid gone: start time unknown
    alive = table_name(12)  # this process: running
    for name in (stale, alive):
        subprocess.run(["nft", "add", "table", TABLE_FAMILY, name], check=True)
    try:
        scenario = tmp_path / "net.yaml"
        scenario.write_text(scenario_yaml("nftables"))
        with ServerProcess(tmp_path / "exam.sqlite3", ["--scenario", str(scenario)]) as server:
            fleet = Fleet(scenario, server.url, "nftables")
            try:
                assert stale in fleet.ready["stale_removed"]
                tables = list_tables()
                assert stale not in tables
                assert alive in tables and fleet.ready["table"] in tables
            finally:
                fleet.quit()
            assert fleet.ready["table"] not in list_tables()  # quit: close in its finally
    finally:
        for name in (stale, alive):
            subprocess.run(["nft", "delete", "table", TABLE_FAMILY, name], capture_output=True)
