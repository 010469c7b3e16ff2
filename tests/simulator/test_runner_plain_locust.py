"""People who know Locust run the locustfile with ``locust`` itself: headless here."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios import load_scenario
from simulator.run.procs import Services

LOCUSTFILE = Path(__file__).resolve().parents[2] / "simulator" / "locustfile.py"


@pytest.fixture
def smoke_server(tmp_path: Path) -> Iterator[str]:
    services = Services(tmp_path)
    try:
        yield services.start_server("smoke")
    finally:
        services.stop()


def test_plain_locust_runs_the_waves_and_the_jury(smoke_server: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--scenario", "smoke", "--target", smoke_server, "--metrics-port", "0",
            "--csv", str(tmp_path / "run"), "--only-summary",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    # the run's answers are reconciled with the server's export, as under vigie load
    assert re.search(
        r"reconciliation: [\d,]+ acknowledged answers, [\d,]+ on the server, 0 lost", proc.stderr
    ), proc.stderr[-2000:]
    with open(tmp_path / "run_stats.csv", newline="") as fh:
        rows = {row["Name"]: row for row in csv.DictReader(fh)}
    smoke = load_scenario("smoke")
    # the shape started every tablet, and the jury launched the unit (keys, answers)
    assert int(rows["login"]["Request Count"]) == smoke.total_tablets
    assert int(rows["ws_connect"]["Request Count"]) == smoke.total_tablets
    assert int(rows["key"]["Request Count"]) == smoke.total_tablets
    assert int(rows["answer"]["Request Count"]) > 0
    assert int(rows["heartbeat"]["Failure Count"]) == 0


def test_plain_locust_applies_the_scenario_faults_and_says_what_it_cannot(
    tmp_path: Path,
) -> None:
    faults = (
        "faults=[{kind: centre_outage, centres: [CAEN], at_s: 12, duration_s: 4, mode: simulated},"
        " {kind: db_stall, at_s: 18, duration_s: 2}, {kind: server_crash, at_s: 22, duration_s: 2}]"
    )
    services = Services(tmp_path)
    try:
        target = services.start_server("smoke")
        proc = subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
                "--scenario", "smoke", "--set", faults, "--target", target,
                "--metrics-port", "0", "--only-summary",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={**os.environ, "PYTHONUNBUFFERED": "1",
                 "VIGIE_OPERATOR_TOKEN": services.operator_token},
        )  # fmt: skip
    finally:
        services.stop()
    err = proc.stderr
    assert "Traceback" not in err, err[-3000:]
    # said before the waves: a plain master owns no server process to crash
    assert "server_crash will not be applied" in err, err[-3000:]
    assert "fault centre_outage started for CAEN (simulated)" in err
    assert "fault centre_outage ended for CAEN" in err
    assert "fault db_stall applied for 2 s (operator endpoint)" in err
    assert "fault server_crash not applied" in err
    assert re.search(
        r"reconciliation: [\d,]+ acknowledged answers, [\d,]+ on the server, 0 lost", err
    )


def test_plain_locust_refuses_nftables_faults_it_cannot_apply(
    smoke_server: str, tmp_path: Path
) -> None:
    fault = "faults=[{kind: centre_outage, centres: [CAEN], at_s: 12, duration_s: 4}]"
    remote = smoke_server.replace("127.0.0.1", "localhost.invalid")
    proc = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--scenario", "smoke", "--set", fault, "--target", remote, "--metrics-port", "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "cannot run faults.0" in proc.stderr and "not on the loopback" in proc.stderr
    assert "mode=simulated" in proc.stderr
