"""Reconciliation at the end of real runs: the smoke fleet against a real ``vigie serve``.

A safe server holds every acknowledged answer; a server told to acknowledge before its
commit (``--unsafe-ack-before-commit``), stalled through the operator endpoint, then killed
with ``kill -9`` and restarted on the same database, has lost what it acknowledged during
the stall: the reconciliation counts them, and the certification fails with that cause.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from simulator.record import RunRecord
from vigie.testing import ServerProcess, wait_for

TOKEN = "operator-test-token"


def vigie(*args: str) -> list[str]:
    return [sys.executable, "-m", "vigie", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def accepted(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=5).text
    m = re.search(r'^vigie_answers_total\{result="accepted"\} (\S+)$', text, re.M)
    return float(m.group(1)) if m else 0.0


def test_a_run_on_a_safe_server_reconciles_every_answer(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "safe.sqlite3", ["--scenario", "smoke"]) as server:
        proc = subprocess.run(
            vigie(
                "load", "smoke", "--target", server.url, "--workers", "1",
                "--metrics-port", "0", "--record", str(tmp_path / "record.json"),
            ),
            capture_output=True, text=True, timeout=150, env=env(),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rec = RunRecord.load(tmp_path / "record.json").reconciliation
    assert rec is not None and rec.problem is None, rec
    assert rec.acked > 50 and rec.stored == rec.acked
    assert rec.lost == 0 and rec.mismatched == 0
    assert "reconciliation: " in proc.stdout + proc.stderr  # the run's notes say it


def test_acknowledged_answers_lost_in_a_crash_fail_the_certification(tmp_path: Path) -> None:
    args = ["--scenario", "smoke", "--unsafe-ack-before-commit", "--operator-token", TOKEN]
    server = ServerProcess(tmp_path / "unsafe.sqlite3", args).start()
    report = tmp_path / "report"
    fleet = subprocess.Popen(
        vigie("certify", "smoke", "--target", server.url, "--report", str(report),
              "--metrics-port", "0"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env(),
    )  # fmt: skip
    try:
        wait_for("the first answers", lambda: accepted(server.url) >= 5, 60)
        r = requests.post(
            f"{server.url}/api/v1/operator/faults",
            json={"kind": "db_stall", "duration_s": 60},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert r.status_code == 200, r.text
        during = accepted(server.url)
        # the server goes on acknowledging what it does not commit ...
        wait_for("answers during the stall", lambda: accepted(server.url) >= during + 10, 30)
        acked_in_stall = accepted(server.url) - during
        server.stop(signal.SIGKILL)  # ... and a crash loses it all
        server.start(attempts=1)  # same database, same port: the tablets come back
        out, _ = fleet.communicate(timeout=150)
    finally:
        if fleet.poll() is None:
            fleet.kill()
            fleet.wait()
        server.close()
    assert fleet.returncode == 1, out[-3000:]
    doc = json.loads((report / "report.json").read_text())
    rec = doc["reconciliation"]
    assert rec["problem"] is None, rec
    assert rec["lost"] >= acked_in_stall >= 10, rec
    assert rec["stored"] + rec["lost"] + rec["mismatched"] == rec["acked"]
    assert {e["problem"] for e in rec["examples"]} == {"lost"}
    assert doc["verdict"] == "failed"
    assert doc["headline"].startswith(f"Failed: {rec['lost']:,} acknowledged answers are not on")
    assert any("not on the server" in reason for reason in doc["reasons"])
