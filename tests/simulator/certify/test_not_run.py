"""A run the target check stopped: the report says why, and shows nothing as measured."""

from __future__ import annotations

import json
from pathlib import Path

from scenarios import load_scenario
from simulator.certify import certify
from simulator.record import RunRecord
from simulator.run.plan import planned_record


def not_run() -> RunRecord:
    record = planned_record(load_scenario("smoke"), "smoke", "http://127.0.0.1:8080/")
    record.target_problems = ["30 of 30 sampled candidates cannot log in", "max_connections: x"]
    record.ended_at = record.started_at
    return record


def test_the_verdict_is_not_run_with_every_problem(tmp_path: Path) -> None:
    verdict = certify(not_run(), tmp_path)
    assert not verdict.certified and not verdict.ran and verdict.exit_code == 3
    assert verdict.headline == (
        "Not run: http://127.0.0.1:8080 does not match scenario smoke: 30 of 30 sampled "
        "candidates cannot log in (and 1 more problem(s))"
    )
    assert verdict.reasons == [
        "target check: 30 of 30 sampled candidates cannot log in",
        "target check: max_connections: x",
    ]
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["ran"] is False and data["verdict"] == "failed" and data["knee"] is None
    page = (tmp_path / "report.html").read_text()
    assert "No wave was started" in page and "max_connections: x" in page
    assert "Waves and objectives" not in page and "plotly" not in page.lower()


def test_the_record_keeps_the_problems_and_a_ran_record_has_none(tmp_path: Path) -> None:
    record = not_run()
    record.save(tmp_path / "r.json")
    assert RunRecord.load(tmp_path / "r.json").target_problems == record.target_problems
    assert RunRecord.from_json({"scenario": "s", "started_at": 1.0}).target_problems == []
