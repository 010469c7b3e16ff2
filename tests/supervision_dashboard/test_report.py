from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from supervision_dashboard import report_pdf
from supervision_dashboard.report import build_report, to_csv, to_html
from supervision_dashboard.report_pdf import to_pdf
from tests.supervision_dashboard.pdf import pdf_words

T0 = 1737449970.0  # 2025-01-21 09:59:30 in Paris
SERVER: dict[str, Any] = {
    "episodes": [
        {
            "candidate_id": "AMU-00003", "centre": "AMU", "unit_id": "ue1", "start": T0,
            "end": T0 + 130, "duration_s": 130.0, "cause": "heartbeat_timeout",
            "ongoing": False, "unfinished": False,
        },
        {
            "candidate_id": "AMU-00002", "centre": "AMU", "unit_id": "ue1", "start": T0 + 10,
            "end": None, "duration_s": 600.0, "cause": "network",
            "ongoing": False, "unfinished": True,
        },
        {
            "candidate_id": "LILLE-00002", "centre": "LILLE", "unit_id": "ue1", "start": T0 + 1,
            "end": None, "duration_s": 45.0, "cause": "heartbeat_timeout",
            "ongoing": True, "unfinished": False,
        },
    ],
    "extra_time": [
        {
            "centre": "AMU", "candidate_id": None, "unit_id": "ue1", "seconds": 600,
            "actor": "jury:national", "reason": "panne <wifi>", "ts": T0 + 200,
        },
        {
            "centre": "AMU", "candidate_id": "AMU-00003", "unit_id": "ue1", "seconds": 120,
            "actor": "jury:centre-AMU", "reason": "tablette", "ts": T0 + 210,
        },
    ],
    "events": [
        {"ts": T0 - 60, "kind": "launch", "centre": None, "actor": "jury:national",
         "data": {"unit_id": "ue1", "deadline": T0 + 10740, "reason": "go"}},
        {"ts": T0 + 300, "kind": "pause", "centre": "AMU", "actor": "jury:national",
         "data": {"reason": "alarme", "unit_id": "ue1"}},
    ],
    "fraud_alerts": [
        {"id": 1, "ts": T0, "candidate_id": "AMU-00002", "centre": "AMU", "path": "/correction.php"}
    ],
}  # fmt: skip


def test_incidents_are_episodes_kept_after_they_end(snapshot: dict[str, Any]) -> None:
    report = build_report(SERVER, snapshot["candidates"], "AMU", T0 + 1000)
    ended, away = report.sections["incidents"]
    assert ended == {
        "candidate_id": "AMU-00003",
        "centre": "AMU",
        "unit_id": "ue1",
        "start": "21/01/2025 09:59:30 CET",
        "end": "21/01/2025 10:01:40 CET",
        "duration": "2 min",
        "cause": "plus de signal de la tablette",
    }
    assert away["end"] == "non revenu avant la clôture" and away["cause"] == "coupure réseau"
    (amu,) = report.per_centre  # a centre's report holds its centre only
    assert amu["candidates"] == "3" and amu["incidents"] == "2" and amu["unfinished"] == "1"
    assert amu["time_disconnected"] == "12 min" and amu["reconnects"] == "3"
    # A 10-minute centre grant reads 10 min, not 10 min times its candidates.
    assert amu["extra_centre"] == "10 min" and amu["extra_candidates"] == "1"
    targets = [e["target"] for e in report.sections["extra_time"]]
    assert targets == ["tout le centre AMU", "AMU-00003"]
    assert report.sections["extra_time"][1]["actor"] == "jury : centre-AMU"
    kinds = [e["kind"] for e in report.sections["events"]]
    assert kinds == ["Lancement de l'épreuve", "Suspension du centre"]
    assert report.sections["events"][1]["details"] == "Épreuve : ue1 · Motif : alarme"


def test_national_report_says_ongoing_episodes(snapshot: dict[str, Any]) -> None:
    report = build_report(SERVER, snapshot["candidates"], None, T0 + 1000)
    assert [i["candidate_id"] for i in report.sections["incidents"]][-1] == "LILLE-00002"
    assert report.sections["incidents"][-1]["end"] == "en cours"
    assert [a["centre"] for a in report.per_centre] == ["AMU", "LILLE"]


def test_csv_export_reads_back_with_french_headers(snapshot: dict[str, Any]) -> None:
    report = build_report(SERVER, snapshot["candidates"], None, T0 + 1000)
    lines = list(csv.reader(io.StringIO(to_csv(report))))
    assert lines[0][:2] == ["# scope", "national"]
    headers = [line for line in lines[1:] if line and line[0] == "section"]
    assert headers[1] == [
        "section", "Candidat", "Centre", "Épreuve", "Début", "Fin", "Durée", "Cause"
    ]  # fmt: skip
    sections = [line[0] for line in lines[1:] if line and line[0] != "section"]
    assert sections.count("summary") == 2 and sections.count("incidents") == 3
    assert sections.count("extra_time") == 2 and sections.count("fraud_alerts") == 1


def test_html_export_escapes_titles_in_french_and_has_signatures(
    snapshot: dict[str, Any],
) -> None:
    page = to_html(build_report(SERVER, snapshot["candidates"], None, T0 + 1000))
    assert "<h1>Procès-verbal d&#x27;incidents — National</h1>" in page
    assert "Temps supplémentaire accordé" in page and "Membres du jury et signatures" in page
    assert "panne &lt;wifi&gt;" in page and "<wifi>" not in page
    for raw in ("disconnected_s", "candidate_id", "None", "heartbeat_timeout"):
        assert raw not in page, raw


TWO_UNITS: dict[str, Any] = {
    "episodes": [
        *SERVER["episodes"],
        {
            "candidate_id": "LILLE-00001", "centre": "LILLE", "unit_id": "ue2", "start": T0 + 4000,
            "end": T0 + 4100, "duration_s": 100.0, "cause": "network",
            "ongoing": False, "unfinished": False,
        },
    ],
    "extra_time": [
        *SERVER["extra_time"],
        {
            "centre": "LILLE", "candidate_id": None, "unit_id": "ue2", "seconds": 300,
            "actor": "jury:centre-LILLE", "reason": "coupure", "ts": T0 + 4200,
        },
    ],
    "events": [
        *SERVER["events"],
        {"ts": T0 + 3000, "kind": "close", "centre": None, "actor": "jury:national",
         "data": {"unit_id": "ue1", "reason": "fin"}},
        {"ts": T0 + 3600, "kind": "launch", "centre": None, "actor": "jury:présidente",
         "data": {"unit_id": "ue2", "deadline": T0 + 7200, "reason": "go"}},
        {"ts": T0 + 3700, "kind": "login", "centre": "LILLE", "actor": "candidate", "data": {}},
    ],
    "fraud_alerts": [
        *SERVER["fraud_alerts"],
        {"id": 2, "ts": T0 + 5000, "candidate_id": "LILLE-00003", "centre": "LILLE", "path": "/admin"},
    ],
}  # fmt: skip


def test_a_units_report_keeps_that_unit_and_names_its_times_and_jurors(
    snapshot: dict[str, Any],
) -> None:
    day = build_report(TWO_UNITS, snapshot["candidates"], None, T0 + 8000)
    assert day.units == ["ue1", "ue2"] and day.unit is None
    assert len(day.sections["incidents"]) == 4
    ue2 = build_report(TWO_UNITS, snapshot["candidates"], None, T0 + 8000, unit="ue2")
    assert [i["candidate_id"] for i in ue2.sections["incidents"]] == ["LILLE-00001"]
    assert [i["reason"] for i in ue2.sections["extra_time"]] == ["coupure"]
    # Events without a unit (a login) and fraud alerts belong to the unit they fall in.
    kinds = [e["kind"] for e in ue2.sections["events"]]
    assert len(kinds) == 2 and "LILLE" in {e["centre"] for e in ue2.sections["events"]}
    assert [f["candidate_id"] for f in ue2.sections["fraud_alerts"]] == ["LILLE-00003"]
    assert ue2.launched_at == T0 + 3600 and ue2.closed_at is None and ue2.deadline == T0 + 7200
    assert ue2.jurors == ["centre-LILLE", "présidente"]
    summary = {r["centre"]: r for r in ue2.per_centre}
    assert summary["LILLE"]["incidents"] == "1" and summary["AMU"]["incidents"] == "0"
    ue1 = build_report(TWO_UNITS, snapshot["candidates"], None, T0 + 8000, unit="ue1")
    assert {i["unit_id"] for i in ue1.sections["incidents"]} == {"ue1"}
    assert [f["candidate_id"] for f in ue1.sections["fraud_alerts"]] == ["AMU-00002"]
    assert ue1.closed_at == T0 + 3000 and ue1.name == "proces-verbal-ue1-national"
    page = to_html(ue2)
    assert "Épreuve ue2" in page and "non close" in page and "<td>présidente</td>" in page


def test_the_pdf_is_the_same_document_a_jury_president_signs(snapshot: dict[str, Any]) -> None:
    report = build_report(TWO_UNITS, snapshot["candidates"], "AMU", T0 + 8000, unit="ue1")
    text = pdf_words(to_pdf(report))
    assert "Procès-verbal d'incidents" in text and "Épreuve ue1" in text
    assert "AMU-00003" in text and "panne <wifi>" in text  # a PDF needs no escaping
    assert "LILLE-00001" not in text  # another centre, another unit
    assert "Membres du jury et signatures" in text and "centre-AMU" in text
    for raw in ("disconnected_s", "candidate_id", "None", "heartbeat_timeout"):
        assert raw not in text, raw


def test_a_pdf_without_a_unicode_font_spells_the_rest_plainly(
    snapshot: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_pdf, "FONT_PATHS", ())
    report = build_report(TWO_UNITS, snapshot["candidates"], None, T0 + 8000, unit="ue2")
    text = pdf_words(to_pdf(report))
    assert "Procès-verbal d'incidents - National - Épreuve ue2" in text and "présidente" in text
