"""``vigie load`` and ``vigie certify`` as people run them: real processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios import load_scenario
from simulator.record import RunRecord
from simulator.run.procs import Services


def vigie(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture
def smoke_server(tmp_path: Path) -> Iterator[str]:
    services = Services(tmp_path)
    try:
        yield services.start_server("smoke")
    finally:
        services.stop()


@pytest.mark.parametrize("command", ["load", "certify"])
def test_invalid_scenario_exits_2_with_the_key_path(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ncentres: {AMIENS: -1}\nwaves: [{name: w, centres: [AMIENS, NOPE], "
        "start_s: 0, rate_per_s: 1}]\nexam: {launch_at_s: 1}\nsurprise: 1\n"
    )
    extra = ["--report", str(tmp_path / "r")] if command == "certify" else []
    proc = vigie(command, str(bad), "--target", "http://127.0.0.1:9", *extra)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}: centres.AMIENS" in proc.stderr
    assert f"{bad}: surprise: unknown key" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_override_errors_are_usage_errors(tmp_path: Path) -> None:
    proc = vigie("load", "smoke", "--target", "http://127.0.0.1:9", "--set", "waves.7.rate_per_s=1")
    assert proc.returncode == 2 and "not an index" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_load_with_two_workers_connects_every_tablet_once(
    smoke_server: str, tmp_path: Path
) -> None:
    record_path = tmp_path / "record.json"
    proc = vigie(
        "load", "smoke", "--target", smoke_server, "--workers", "2",
        "--metrics-port", "0", "--record", str(record_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = RunRecord.load(record_path)
    smoke = load_scenario("smoke")
    # Two workers, disjoint identities: every tablet holds its own socket, none is
    # superseded by a twin (which would show as disconnections and reconnects).
    assert record.max_sockets_open() == smoke.total_tablets
    last = record.samples[-1]
    assert last.requests["login"] == smoke.total_tablets
    assert last.requests["ws_connect"] == smoke.total_tablets
    # Disconnections or refusals would mean twins; a rare 409 for an answer that crossed the
    # jury's close on a loaded machine is the only failure tolerated (known, see docs/tablet.md).
    assert set(last.failures) <= {"http_4xx"} and last.failures.get("http_4xx", 0) <= 1
    assert last.requests["answer"] > 0 and last.requests["finish"] == smoke.total_tablets
    assert last.server["ws_connects_total"] == smoke.total_tablets
    # wave by wave: the first wave's centres connected in wave 1
    w1 = record.wave(1)
    assert w1.ops["ws_connect"].count == smoke.wave_tablets(smoke.waves[0])
    assert any("jury: launched ue1" in n for n in record.notes)
    assert any("jury: closed ue1" in n for n in record.notes)
    assert "smoke: 30 tablets planned" in proc.stdout


def test_certify_writes_the_report_and_exits_0_when_certified(
    smoke_server: str, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    proc = vigie(
        "certify", "smoke", "--target", smoke_server, "--report", str(report), "--metrics-port", "0"
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    data = json.loads((report / "report.json").read_text())
    assert data["verdict"] == "certified"
    assert data["max_connected"] == 30
    assert data["knee"] is None
    assert len(data["waves"]) == 2
    assert (report / "report.html").is_file() and (report / "record.json").is_file()
