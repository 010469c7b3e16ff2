from __future__ import annotations

from typing import Any

from supervision_dashboard.rows import duration, grid_delta, grid_row, heartbeat_age, time_left


def test_grid_row_shows_question_progress_time_left_and_extra(snapshot: dict[str, Any]) -> None:
    row = snapshot["candidates"][3]  # LILLE-00001, 300 s extra time
    g = grid_row(row, snapshot["server_ts"])
    assert g["id"] == "LILLE-00001" and g["state_label"] == "En composition"
    assert g["question"] == "1/100" and g["progress"] == 0
    assert g["left"] == "3 h 05 min" and g["extra"] == "5 min"
    assert g["battery"] == 100 and g["reconnects"] == 0
    assert grid_row(row, snapshot["server_ts"], "en")["state_label"] == "In progress"


def test_heartbeat_age_of_a_healthy_row_is_capped_because_rows_only_move_on_change() -> None:
    assert heartbeat_age({"state": "in_progress", "last_hb": 0.0}, 4.0, 10.0) == "4 s"
    assert heartbeat_age({"state": "in_progress", "last_hb": 0.0}, 400.0, 10.0) == "< 10 s"
    assert heartbeat_age({"state": "lost", "last_hb": 0.0}, 400.0, 10.0) == "6 min"
    assert heartbeat_age({"state": "not_connected", "last_hb": None}, 400.0, 10.0) == "—"


def test_durations_and_time_left() -> None:
    assert (
        duration(None) == "" and duration(59) == "59 s" and duration(3600 + 5 * 60) == "1 h 05 min"
    )
    assert time_left({"deadline": 100.0}, 130.0) == "0"
    assert time_left({"deadline": 100.0}, 70.0) == "< 1 min"
    assert time_left({"deadline": None}, 70.0) == ""


def test_grid_delta_sends_only_changed_rows() -> None:
    a = {"x": {"id": "x", "v": 1}, "y": {"id": "y", "v": 1}}
    b = {"x": {"id": "x", "v": 2}, "y": {"id": "y", "v": 1}, "z": {"id": "z", "v": 0}}
    assert grid_delta(a, b) == {
        "add": [{"id": "z", "v": 0}],
        "update": [{"id": "x", "v": 2}],
        "remove": [],
    }
    assert grid_delta(b, {})["remove"] == [{"id": "x"}, {"id": "y"}, {"id": "z"}]
