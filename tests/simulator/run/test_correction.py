"""The rehearsal's correction: a real ``vigie correct`` process on a real database."""

from __future__ import annotations

from pathlib import Path

from simulator.run.correction import correct_run, describe
from tests.vigie.correction.test_cli import make_db
from vigie.correction.rules import DEFAULT_RULES_PATH


def test_a_closed_unit_is_corrected_next_to_the_report(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    found = correct_run(db, tmp_path, "ue1")
    assert found["error"] is None and found["results"] == "results/classement.html"
    assert (tmp_path / found["results"]).is_file()
    assert (tmp_path / "results" / "etat-recapitulatif.csv").is_file()
    assert found["summary"].startswith("7 candidates") and "(ue1)" in found["summary"]
    assert 0 < found["seconds"] < 60
    assert describe(found).startswith("corrected in ")


def test_the_scenarios_rules_are_the_ones_applied(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        DEFAULT_RULES_PATH.read_text(encoding="utf-8").replace(
            "name: vigie-edn", "name: faculte-x"
        ),
        encoding="utf-8",
    )
    found = correct_run(make_db(tmp_path), tmp_path, "ue1", rules)
    assert found["error"] is None and "faculte-x v1.0" in found["summary"], found


def test_a_unit_left_open_is_said_not_corrected(tmp_path: Path) -> None:
    db = make_db(tmp_path, close=())
    found = correct_run(db, tmp_path, "ue1")
    assert found["results"] is None and found["error"]
    assert "closed" in found["error"] and "Traceback" not in found["error"]
    assert describe(found) == f"not corrected: {found['error']}"
    assert not (tmp_path / "results" / "classement.html").exists()


def test_a_correction_that_overruns_is_stopped(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    found = correct_run(db, tmp_path, "ue1", timeout_s=0.01)
    assert found["results"] is None and "was stopped" in found["error"]
