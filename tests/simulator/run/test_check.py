"""The target check: what ``vigie load`` / ``vigie certify`` ask a server before the first wave."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scenarios import load_scenario
from simulator.certify.verdict import EXIT_NOT_RUN as VERDICT_NOT_RUN
from simulator.cli.common import EXIT_NOT_RUN
from simulator.run.check import check_target, explain, sampled
from simulator.run.procs import Services
from vigie.protocol import API_PREFIX
from vigie.testing import free_port


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = Services(tmp_path)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def demo_server(services: Services, tmp_path: Path) -> str:
    """``vigie serve`` without --scenario, as a user who missed it would start it: the smoke
    scenario's centres and counts, but the default seed, so every access code differs."""
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"AMIENS": 10, "BREST": 10, "CAEN": 10}))
    return services.start_serve(["--demo-counts", str(counts)])


def test_exit_codes_agree() -> None:
    assert EXIT_NOT_RUN == VERDICT_NOT_RUN == 3


def test_sampled_candidates_are_first_middle_and_last_of_each_wave() -> None:
    smoke = load_scenario("smoke")
    picks = sampled(smoke)
    assert sorted(picks) == [1, 2]
    assert [i.candidate_id for i in picks[2]] == ["CAEN-00001", "CAEN-00006", "CAEN-00010"]
    assert all(i.wave == 1 for i in picks[1]) and len(picks[1]) == 3


def test_a_matching_server_passes(services: Services) -> None:
    url = services.start_server("smoke")
    check = check_target(load_scenario("smoke"), url)
    assert check.ok, check.problems
    assert check.served_scenario == "smoke" and not check.notes


def test_another_seed_is_a_roster_mismatch_with_the_fix(demo_server: str) -> None:
    smoke = load_scenario("smoke")
    started = time.monotonic()
    check = check_target(smoke, demo_server)
    assert time.monotonic() - started < 10
    assert not check.ok and check.roster_mismatch
    assert "6 of 6 sampled candidates cannot log in" in check.problems[0]
    assert "401 bad_credentials" in check.problems[0]
    assert any(
        "heartbeat_interval_s: the scenario wants 1, the server has 5" in p for p in check.problems
    )
    text = explain(check, "vigie certify", smoke, "smoke", [])
    port = demo_server.rsplit(":", 1)[1]
    assert f"vigie serve --scenario smoke --port {port}" in text
    assert "it was not started with --scenario" in text and "a database keeps its roster" in text


def test_other_knobs_and_centres_are_named(services: Services) -> None:
    url = services.start_server("smoke", ["server.max_connections=5", "server.latency_ms=3"])
    ecnp_like = load_scenario("smoke", ["centres.CAEN=11"])  # one candidate more than served
    check = check_target(ecnp_like, url)
    assert "max_connections: the scenario wants 0, the server has 5" in check.problems
    assert "latency_ms: the scenario wants 0, the server has 3" in check.problems
    assert any("CAEN (scenario 11, server 10)" in p for p in check.problems)
    assert any("cannot log in (wave 2: 1; CAEN-00011" in p for p in check.problems)
    text = explain(check, "vigie load", ecnp_like, "smoke", ["centres.CAEN=11"])
    assert "vigie serve --scenario smoke --set centres.CAEN=11 --port" in text


def test_a_unit_already_closed_needs_a_fresh_database(services: Services) -> None:
    url = services.start_server("smoke")
    r = requests.post(
        f"{url}{API_PREFIX}/jury/login",
        json={"username": "national", "password": "national-demo"},
        timeout=10,
    )
    jury = {"Authorization": f"Bearer {r.json()['token']}"}
    for action in ("launch", "close"):
        r = requests.post(
            f"{url}{API_PREFIX}/jury/units/ue1/{action}",
            json={"reason": "a previous run"},
            headers=jury,
            timeout=10,
        )
        assert r.status_code == 200, r.text
    check = check_target(load_scenario("smoke"), url)
    assert check.problems == [
        "unit ue1 is already closed on this server (a previous run?): the jury could not "
        "launch it; the run needs a fresh database"
    ]
    text = explain(check, "vigie certify", load_scenario("smoke"), "smoke", [])
    assert "remove var/smoke.sqlite3 first, or give another --db" in text


def test_nothing_listening() -> None:
    check = check_target(load_scenario("smoke"), f"http://127.0.0.1:{free_port()}")
    assert len(check.problems) == 1 and "connection refused" in check.problems[0]


def vigie(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie", *args], capture_output=True, text=True, timeout=120
    )


def test_certify_against_a_plain_vigie_serve_stops_within_seconds_with_a_report(
    demo_server: str, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    started = time.monotonic()
    proc = vigie("certify", "smoke", "--target", demo_server, "--report", str(report))
    assert time.monotonic() - started < 30  # not the scenario's run, nor nine minutes of 401s
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{demo_server} does not match scenario smoke" in proc.stderr
    assert "nothing was run" in proc.stderr and "cannot log in" in proc.stderr
    assert "vigie serve --scenario smoke --port" in proc.stderr
    assert proc.stdout.startswith(f"Not run: {demo_server} does not match scenario smoke")
    data = json.loads((report / "report.json").read_text())
    assert data["verdict"] == "failed" and data["ran"] is False
    assert data["headline"].startswith("Not run:") and data["knee"] is None
    assert any("cannot log in" in r for r in data["reasons"])
    assert "Not run:" in (report / "report.html").read_text()


def test_load_against_other_knobs_exits_3_and_no_check_is_the_way_around(
    services: Services,
) -> None:
    url = services.start_server("smoke", ["server.max_connections=5"])
    proc = vigie("load", "smoke", "--target", url, "--metrics-port", "0")
    assert proc.returncode == 3
    assert "max_connections: the scenario wants 0, the server has 5" in proc.stderr
    assert "--no-check runs anyway" in proc.stderr
    assert "smoke: 30 tablets planned" not in proc.stdout  # no wave ran


def test_injected_faults_do_not_fail_the_check(services: Services) -> None:
    url = services.start_server("smoke", ["server.error_rate=0.5"])
    check = check_target(load_scenario("smoke", ["server.error_rate=0.5"]), url)
    assert check.ok, check.problems


def test_plain_headless_locust_checks_the_target_too(demo_server: str, tmp_path: Path) -> None:
    locustfile = Path(__file__).resolve().parents[3] / "simulator" / "locustfile.py"
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
            "--scenario", "smoke", "--target", demo_server, "--metrics-port", "0",
        ],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert time.monotonic() - started < 30
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert f"locust: {demo_server} does not match scenario smoke" in proc.stderr
    assert "cannot log in" in proc.stderr and "Traceback" not in proc.stderr
