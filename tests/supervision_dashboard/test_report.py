from __future__ import annotations

import csv
import io
from typing import Any

from supervision_dashboard.report import build_report, to_csv, to_html

SERVER = {
    "incidents": [
        {"candidate_id": "AMU-00003", "centre": "AMU", "kind": "disconnect", "ts": 1737449970.0},
        {
            "candidate_id": "LILLE-00002",
            "centre": "LILLE",
            "kind": "disconnect",
            "ts": 1737449971.0,
        },
    ],
    "extra_time": [
        {
            "centre": "AMU",
            "unit_id": "U1",
            "seconds": 300,
            "actor": "jury:national",
            "reason": "panne <wifi>",
        }
    ],
    "fraud_alerts": [
        {"id": 1, "candidate_id": "AMU-00002", "centre": "AMU", "path": "/correction.php"}
    ],
}


def test_centre_report_keeps_only_its_centre(snapshot: dict[str, Any]) -> None:
    report = build_report(SERVER, snapshot["candidates"], "AMU", 1737460000.0)
    assert [i["candidate_id"] for i in report.sections["incidents"]] == ["AMU-00003"]
    assert report.sections["incidents"][0]["ts"] == "2025-01-21 08:59:30 UTC"
    assert [a["centre"] for a in report.per_centre] == ["AMU"]
    amu = report.per_centre[0]
    assert amu["candidates"] == 3 and amu["disconnected"] == 2 and amu["disconnected_s"] == 42
    assert amu["reconnects"] == 3


def test_csv_export_reads_back(snapshot: dict[str, Any]) -> None:
    report = build_report(SERVER, snapshot["candidates"], None, 1737460000.0)
    lines = list(csv.reader(io.StringIO(to_csv(report))))
    assert lines[0][:2] == ["# scope", "national"]
    sections = [line[0] for line in lines[1:] if line and line[0] != "section"]
    assert sections.count("summary") == 2 and sections.count("incidents") == 2
    assert sections.count("extra_time") == 1 and sections.count("fraud_alerts") == 1


def test_html_export_escapes_and_titles_in_french(snapshot: dict[str, Any]) -> None:
    page = to_html(build_report(SERVER, snapshot["candidates"], None, 1737460000.0), "fr")
    assert (
        "<h1>Procès-verbal d&#x27;incidents — National</h1>" in page
        and "Temps supplémentaire accordé" in page
    )
    assert "panne &lt;wifi&gt;" in page and "<wifi>" not in page
