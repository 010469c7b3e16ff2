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
