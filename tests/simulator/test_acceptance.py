"""Acceptance: the 21 January 2022 failure on demand, its fix certified, and the other
national failures (docs/faults.md), each ending with the verdict and cause its docs state.

Every run here is real: ``vigie rehearse`` starts ``vigie serve`` (SQLite), a Locust master
and worker process, and the certifier, all on 127.0.0.1. The reduced-scale pair always
runs (about a minute); the full-scale pair replays the 9,800 tablets of
``ecnp-2022-01-21`` as the issue's acceptance asks (minutes each, ``slow``), and so do the
fault scenarios, whose network faults go through nftables on the loopback (CI runs as
root). Every fault run must also reconcile: no acknowledged answer missing from the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REDUCED = """
name: reduced-2022
description: "2022 in miniature: the cap is crossed in the last wave"
centres: {AMIENS: 100, BREST: 60, CAEN: 60, DIJON: 80}
waves:
  - {name: "wave 1", centres: [AMIENS], start_s: 0, rate_per_s: 50}
  - {name: "wave 2", centres: [BREST, CAEN], start_s: 3, rate_per_s: 50}
  - {name: "wave 3", centres: [DIJON], start_s: 6, rate_per_s: 50}
heartbeat_interval_s: 2
time_compression: 60
think_time: {median_s: 120, min_s: 30}
exam: {launch_at_s: 10, duration_s: 300, answer_fraction: 0.05, tail_s: 3}
server: {max_connections: 250}
"""


def rehearse(
    scenario: str, report: Path, *extra: str, timeout: float
) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigie",
            "rehearse",
            scenario,
            "--report",
            str(report),
            "--metrics-port",
            "0",
            "--dashboard-port",
            "0",
            "--quiet",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    elapsed = time.monotonic() - started
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    report_json = report / "report.json"
    assert report_json.is_file(), proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.returncode, json.loads(report_json.read_text()), elapsed


def test_reduced_scale_cap_is_the_knee_in_the_last_wave(tmp_path: Path) -> None:
    scenario = tmp_path / "reduced.yaml"
    scenario.write_text(REDUCED)
    rc, report, _ = rehearse(str(scenario), tmp_path / "capped", timeout=180)
    assert rc == 1
    assert report["verdict"] == "failed"
    knee = report["knee"]
    assert knee is not None
    assert 240 <= knee["connected"] <= 260
    assert knee["wave"] == 3
    assert knee["cause"] == "connection cap"
    assert (tmp_path / "capped" / "report.html").is_file()


def test_reduced_scale_without_the_cap_is_certified(tmp_path: Path) -> None:
    scenario = tmp_path / "reduced.yaml"
    scenario.write_text(REDUCED)
    rc, report, _ = rehearse(str(scenario), tmp_path / "uncapped", "--no-cap", timeout=180)
    assert report["verdict"] == "certified", report.get("headline")
    assert rc == 0
    assert report["max_connected"] == 300
    assert report["knee"] is None
    assert [w["number"] for w in report["waves"]] == [1, 2, 3]
    # The rehearsal ends with the day's results: what the tablets answered, corrected.
    correction = report["checks"]["correction"]
    assert correction["error"] is None, correction
    assert correction["summary"].startswith("300 candidates")
    assert (tmp_path / "uncapped" / correction["results"]).is_file()


def test_an_edn_day_sits_two_units_in_a_row_and_ranks_on_both(tmp_path: Path) -> None:
    rc, report, _ = rehearse("edn-day", tmp_path / "day", timeout=300)
    assert report["verdict"] == "certified", report.get("headline")
    assert rc == 0
    notes = report["notes"]
    order = [n.split("jury: ")[1] for n in notes if "jury: launched" in n or "jury: closed" in n]
    assert [o.split(" for ")[0] for o in order] == [
        "launched ue1", "closed ue1", "launched ue2", "closed ue2"
    ]  # fmt: skip
    # every tablet sat both units: finished each, every question answered
    ops = report["waves"][-1]["ops"]
    assert ops["finish"]["count"] == 400 and ops["finish"]["failed"] == 0
    assert ops["answer"]["failed"] <= ops["answer"]["count"] // 1000, ops["answer"]
    # the deadlines of both units were checked, ue1's before ue2 replaced it on the server
    extra = report["checks"]["extra_time"]
    assert extra["error"] is None and extra["checked"] == 400
    assert {u: f["checked"] for u, f in extra["units"].items()} == {"ue1": 200, "ue2": 200}
    assert extra["planned_missing"]["count"] == 0
    assert report["reconciliation"]["lost"] == 0
    correction = report["checks"]["correction"]
    assert correction["error"] is None, correction
    assert "200 candidates" in correction["summary"] and "(ue1, ue2)" in correction["summary"]
    ranking = (tmp_path / "day" / "results" / "classement.csv").read_text(encoding="utf-8")
    header = ranking.splitlines()[0].lower()
    assert "ue1" in header and "ue2" in header, header


FULL_BUDGET_S = 15 * 60
# A full-scale run holds both cores for ~9 minutes: CI (the
# README's `./dev test`, CI=true) runs it; on a workstation shared with others, ask for it.
full_scale = pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("VIGIE_FULL_SCALE") != "1",
    reason="full-scale acceptance: set VIGIE_FULL_SCALE=1 (CI runs it)",
)


@pytest.mark.slow
@full_scale
def test_full_scale_2022_fails_at_the_cap_in_wave_4(tmp_path: Path) -> None:
    rc, report, elapsed = rehearse("ecnp-2022-01-21", tmp_path / "r", timeout=FULL_BUDGET_S + 60)
    assert rc == 1
    assert report["verdict"] == "failed"
    knee = report["knee"]
    assert 8000 <= knee["connected"] <= 8100
    assert knee["wave"] == 4
    assert knee["cause"] == "connection cap"
    assert elapsed < FULL_BUDGET_S


@pytest.mark.slow
@full_scale
def test_full_scale_2022_without_the_cap_is_certified(tmp_path: Path) -> None:
    rc, report, elapsed = rehearse(
        "ecnp-2022-01-21", tmp_path / "r", "--no-cap", timeout=FULL_BUDGET_S + 60
    )
    assert report["verdict"] == "certified", report.get("headline")
    assert rc == 0
    assert report["max_connected"] == 9800
    assert elapsed < FULL_BUDGET_S


# --- the fault scenarios ------------------------------------------------------------
def fault(report: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [f for f in report["faults"] if f["kind"] == kind]
    assert len(found) == 1 and found[0]["applied"], found
    return found[0]


def reconciled(report: dict[str, Any]) -> None:
    rec = report["reconciliation"]
    assert rec is not None and rec["problem"] is None, rec
    assert rec["acked"] > 0
    assert rec["lost"] == 0 and rec["mismatched"] == 0, rec
    for f in report["faults"]:  # a fault with a window is judged on its losses too
        if f["applied"] and f["window_end_s"] is not None:
            assert f["answers_lost"] == 0, f


@pytest.mark.slow
@full_scale
def test_edn_2023_database_stall_loses_nothing_at_8158_tablets(tmp_path: Path) -> None:
    # The stall must hold (applied, recovered, nothing lost, every deadline right) and, since
    # the server's periodic stall past 8,000 tablets is gone (issue 12), the platform is
    # certified around it.
    rc, report, elapsed = rehearse("edn-2023-database", tmp_path / "r", timeout=FULL_BUDGET_S + 60)
    assert report["verdict"] == "certified", (report["headline"], report["reasons"])
    assert rc == 0
    assert report["max_connected"] == 8158
    stall = fault(report, "db_stall")
    assert stall["affected_tablets"] >= 8000 and stall["answers_queued_offline"] > 0
    assert stall["recovered_after_s"] is not None and stall["recovered_after_s"] <= 90
    reconciled(report)
    assert report["checks"]["extra_time"]["planned_missing"]["count"] == 0
    assert stall["answers_lost"] == 0
    assert elapsed < FULL_BUDGET_S


@pytest.mark.slow
@full_scale
def test_edn_2025_lyon_sud_reconnect_loop_is_seen_and_recovered(tmp_path: Path) -> None:
    rc, report, _ = rehearse("edn-2025-lyon-sud", tmp_path / "r", timeout=FULL_BUDGET_S + 60)
    assert report["verdict"] == "certified", (report["headline"], report["reasons"])
    assert rc == 0
    loop = fault(report, "reconnect_loop")
    assert loop["how"] == "nftables"
    assert 250 <= loop["affected_tablets"] <= 279
    assert loop["detected_after_s"] is not None and loop["detected_after_s"] <= 10
    assert loop["recovered_after_s"] is not None and loop["recovered_after_s"] <= 30
    assert loop["ops"]["ws_connect"]["count"] >= 5 * 250  # six resets: the centre reconnected
    reconciled(report)


@pytest.mark.slow
@full_scale
def test_exam_day_chaos_recovers_from_each_fault(tmp_path: Path) -> None:
    rc, report, _ = rehearse("exam-day-chaos", tmp_path / "r", timeout=FULL_BUDGET_S + 60)
    assert report["verdict"] == "certified", (report["headline"], report["reasons"])
    assert rc == 0
    outage = fault(report, "centre_outage")
    assert outage["how"] == "nftables" and outage["detected_after_s"] <= 30
    crash = fault(report, "server_crash")
    assert crash["how"].startswith("kill -9") and crash["recovered_after_s"] <= 60
    assert {f["kind"] for f in report["faults"]} == {
        "latency", "centre_outage", "server_crash", "error_rate",
    }  # fmt: skip
    reconciled(report)


@pytest.mark.slow
@full_scale
def test_ecni_2015_saturation_fails_at_the_launch_with_the_server_saturated(
    tmp_path: Path,
) -> None:
    rc, report, _ = rehearse("ecni-2015-12-saturation", tmp_path / "r", timeout=FULL_BUDGET_S + 60)
    assert rc == 1 and report["verdict"] == "failed"
    knee = report["knee"]
    assert knee is not None and knee["cause"] == "server saturation (event loop)", knee
    assert knee["t"] >= 60  # the waves got through; the national launch did not
    reconciled(report)


@pytest.mark.slow
@full_scale
def test_ecni_2019_tiers_temps_forgotten_by_one_centre_fails_with_that_cause(
    tmp_path: Path,
) -> None:
    rc, report, _ = rehearse("ecni-2019-tiers-temps", tmp_path / "r", timeout=FULL_BUDGET_S + 60)
    assert rc == 1 and report["verdict"] == "failed"
    assert report["knee"] is None  # every SLO held: only the deadlines are wrong
    assert report["headline"].startswith("Failed: planned extra time (tiers-temps) missing")
    missing = report["checks"]["extra_time"]["planned_missing"]
    assert missing["count"] >= 3 and set(missing["by_centre"]) == {"ROUEN"}, missing
    assert fault(report, "drop_planned_extra_time")["how"] == "operator endpoint"
    reconciled(report)
