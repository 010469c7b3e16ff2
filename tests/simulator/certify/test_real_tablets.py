"""The real tablets' section: in report.json and report.html, and never in the verdict."""

import json
from collections.abc import Callable
from pathlib import Path

from simulator.certify import REPORT_HTML, REPORT_JSON, certify
from simulator.record import RealCentreRun, RunRecord

MakeRun = Callable[..., RunRecord]


def test_real_tablets_are_reported_and_never_judged(make_run: MakeRun, tmp_path: Path) -> None:
    plain = certify(make_run(), tmp_path / "plain")
    record = make_run()
    absent = RealCentreRun(
        "LYON-SUD", candidates=279, expected=40, logged_in=2, connected_at_launch=1,
        answers_stored=9, incidents={"late": 0, "lost": 1, "unfinished": 0},
        warnings=["LYON-SUD: 39 of the 40 expected real tablets were not connected at the national launch"],
    )  # fmt: skip
    unread = RealCentreRun("NICE", 254, 254, problem="the jury API could not be read: 503")
    record.real_tablets = [absent, unread]
    mixed = certify(record, tmp_path / "mixed")
    # The same verdict as without them: absent or unreadable real tablets fail nothing.
    assert (mixed.certified, mixed.headline, mixed.reasons) == (
        plain.certified, plain.headline, plain.reasons,
    )  # fmt: skip
    doc = json.loads((tmp_path / "mixed" / REPORT_JSON).read_text())
    section = doc["real_tablets"]
    assert section["judged"] is False
    assert [c["centre"] for c in section["centres"]] == ["LYON-SUD", "NICE"]
    assert section["warnings"] == absent.warnings
    assert json.loads((tmp_path / "plain" / REPORT_JSON).read_text())["real_tablets"] is None
    page = (tmp_path / "mixed" / REPORT_HTML).read_text()
    assert "<h2>Real tablets</h2>" in page and "Reported, not judged" in page
    assert "lost 1" in page and "NICE: the jury API could not be read: 503" in page
    assert "<h2>Real tablets</h2>" not in (tmp_path / "plain" / REPORT_HTML).read_text()
    again = RunRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert again.real_tablets == record.real_tablets
