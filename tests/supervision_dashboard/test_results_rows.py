"""What the results page makes of the server's question analysis (no browser)."""

from __future__ import annotations

from typing import Any

from supervision_dashboard.pages.results import look_text, marks_figure, question_rows


def _q(qid: str, disc: float, flags: list[str], success: float = 0.5) -> dict[str, Any]:
    return {"question_id": qid, "unit_id": "ue1", "format": "QRM", "rank": "A", "weight": 1,
            "answered": 3, "present": 4, "success": success, "discrimination": disc,
            "flags": flags}  # fmt: skip


def test_questions_to_look_at_come_first_then_the_least_discriminating() -> None:
    analysis = {"questions": [_q("q1", 0.4, []), _q("q2", 0.1, []), _q("q3", -0.2, ["discrimination négative"])]}  # fmt: skip
    rows = question_rows(analysis)
    assert [r["question_id"] for r in rows] == ["q3", "q2", "q1"]
    assert rows[0]["answered"] == "3/4"
    assert rows[1]["success"] == 50.0 and rows[0]["flags"] == "discrimination négative"


def test_one_bar_series_per_unit_over_the_twenty_bands() -> None:
    bins = [{"from": i, "to": i + 1, "count": i % 3} for i in range(20)]
    fig = marks_figure({"units": [{"unit_id": "ue1", "bins": bins}, {"unit_id": "ue2", "bins": bins}]}, "fr")  # fmt: skip
    assert [tr["name"] for tr in fig["data"]] == ["ue1", "ue2"]
    assert fig["data"][0]["x"][0] == "0–1" and fig["data"][0]["y"][:3] == [0, 1, 2]


def test_the_list_to_look_at_is_bounded_and_says_how_many() -> None:
    ids = [f"ue1-q{i:03d}" for i in range(30)]
    text = look_text({"to_look_at": ids}, "fr")
    assert text.startswith("30 question(s) à examiner") and text.endswith("…")
    assert look_text({"to_look_at": []}, "fr") == "Aucune question à examiner."
