"""Lost or mismatched answers fail the certification whatever the SLOs say, and the banner
names them; a reconciliation that could not be done certifies nothing."""

import json
from collections.abc import Callable
from pathlib import Path

from simulator.certify import REPORT_HTML, REPORT_JSON, certify
from simulator.certify.verdict import decide
from simulator.record import Reconciliation, RunRecord

MakeRun = Callable[..., RunRecord]
LOST = {"problem": "lost", "candidate_id": "AMIENS-0001", "centre": "AMIENS"}


def test_every_answer_on_the_server_keeps_the_run_certified(make_run: MakeRun) -> None:
    record = make_run()
    record.reconciliation = Reconciliation(acked=500, stored=500, pending=3)
    verdict = decide(record)
    assert verdict.certified and verdict.headline == "Certified for 9,800 simultaneous tablets"
    assert verdict.to_json()["reconciliation"]["stored"] == 500


def test_lost_answers_fail_a_run_that_met_every_slo(make_run: MakeRun, tmp_path: Path) -> None:
    record = make_run()
    record.reconciliation = Reconciliation(acked=500, stored=463, lost=37, examples=[LOST])
    record.save(tmp_path / "record.json")
    verdict = certify(RunRecord.load(tmp_path / "record.json"), tmp_path / "r")
    assert not verdict.certified and verdict.exit_code == 1
    assert verdict.headline == "Failed: 37 acknowledged answers are not on the server"
    assert verdict.reasons == [
        "37 acknowledged answers of 500 are not on the server (lost after the server "
        "acknowledged them)"
    ]
    report = json.loads((tmp_path / "r" / REPORT_JSON).read_text())
    assert report["reconciliation"] == {
        "acked": 500,
        "stored": 463,
        "lost": 37,
        "mismatched": 0,
        "pending": 0,
        "examples": [LOST],
        "problem": None,
    }
    page = (tmp_path / "r" / REPORT_HTML).read_text()
    assert "Answers reconciled" in page and "AMIENS-0001" in page


def test_lost_answers_lead_the_banner_and_keep_the_other_cause(make_run: MakeRun) -> None:
    record = make_run(cap=8000)
    record.reconciliation = Reconciliation(acked=10, stored=8, lost=1, mismatched=1)
    verdict = decide(record)
    assert verdict.headline.startswith(
        "Failed: 1 acknowledged answer is not on the server and 1 acknowledged answer has "
        "another value on the server (also failed at 8,000 connected tablets in wave 4"
    )
    assert len([r for r in verdict.reasons if "acknowledged answer" in r]) == 2


def test_a_reconciliation_impossible_certifies_nothing(make_run: MakeRun) -> None:
    record = make_run()
    record.reconciliation = Reconciliation(acked=500, problem="the export answered 404")
    verdict = decide(record)
    assert not verdict.certified
    assert verdict.headline == "Not certified: the answers could not be reconciled"
    assert verdict.reasons == ["the answers could not be reconciled: the export answered 404"]


def test_a_record_without_reconciliation_is_judged_as_before(make_run: MakeRun) -> None:
    verdict = decide(make_run())
    assert verdict.certified and verdict.to_json()["reconciliation"] is None
