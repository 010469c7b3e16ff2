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
    # A lost tablet says when it was last heard, on the exam's clock (Paris).
    assert heartbeat_age({"state": "lost", "last_hb": 0.0}, 400.0, 10.0) == "vu à 01:00:00"
    assert heartbeat_age({"state": "late", "last_hb": 0.0}, 12.0, 10.0) == "12 s"
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


def test_connection_and_pause_are_shown_apart_from_the_state() -> None:
    lost = {"id": "AMU-00002", "state": "lost", "last_hb": 0.0, "connected": False, "paused": True}
    g = grid_row(lost, 30.0)
    assert g["state_label"] == "Déconnecté · centre en pause"
    assert g["connection"] == "Déconnectée" and g["age"] == "vu à 01:00:00"
    never = {"id": "AMU-00003", "state": "not_connected", "last_hb": None, "paused": True}
    assert grid_row(never, 30.0)["connection"] == "Jamais connectée"
    assert "pause" not in grid_row(never, 30.0)["state_label"].split("·")[0]
    waiting = {"id": "AMU-00001", "state": "waiting", "last_hb": 29.0, "connected": True}
    assert grid_row(waiting, 30.0)["connection"] == "Connectée"


def test_an_unfinished_candidate_is_not_finished_and_has_no_time_left() -> None:
    row = {"id": "STRASBOURG-00061", "state": "unfinished", "last_hb": 0.0, "deadline": 999.0}
    g = grid_row(row, 30.0)
    assert g["state_label"] == "Non terminé" and g["age"] == "vu à 01:00:00"
    assert g["left"] == ""
    assert grid_row({**row, "state": "finished"}, 30.0)["left"] == ""
