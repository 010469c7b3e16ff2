from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from supervision_dashboard.acks import AckBook
from supervision_dashboard.alerts import AlertDetector
from supervision_dashboard.feed import FeedState, Row


def _row(cid: str, centre: str, state: str, reconnects: int = 0) -> dict[str, Any]:
    return {"id": cid, "centre": centre, "state": state, "reconnects": reconnects}


def test_newly_lost_tablet_alerts_once(snapshot: dict[str, Any], changes: dict[str, Any]) -> None:
    state, det = FeedState(), AlertDetector()
    state.apply_snapshot(snapshot)
    det.observe(state.apply_changes(changes), state, 100.0)
    lost = [a for a in det.latest(10) if a.kind == "lost"]
    assert [(a.candidate_id, a.centre) for a in lost] == [("AMU-00001", "AMU")]
    # Staying lost is not news.
    again = copy.deepcopy(changes)
    again["candidates"][0]["battery"] = 80
    det.observe(state.apply_changes(again), state, 101.0)
    assert len([a for a in det.latest(10) if a.kind == "lost"]) == 1


def test_reconnect_loop_needs_several_reconnects_within_the_window() -> None:
    state, det = FeedState(), AlertDetector(loop_reconnects=3, loop_window_s=300)
    prev = _row("X-1", "AMU", "in_progress", 0)
    for i, ts in enumerate([0.0, 100.0], start=1):
        new = _row("X-1", "AMU", "in_progress", i)
        det.observe([(prev, new)], state, ts)
        prev = new
    assert not [a for a in det.latest(10) if a.kind == "loop"]
    new = _row("X-1", "AMU", "in_progress", 3)
    det.observe([(prev, new)], state, 200.0)
    loops = [a for a in det.latest(10) if a.kind == "loop"]
    assert len(loops) == 1 and loops[0].candidate_id == "X-1" and loops[0].fields["n"] == 3


def test_reconnects_spread_over_hours_are_not_a_loop() -> None:
    state, det = FeedState(), AlertDetector(loop_reconnects=3, loop_window_s=300)
    prev = _row("X-1", "AMU", "in_progress", 0)
    for i in range(1, 6):
        new = _row("X-1", "AMU", "in_progress", i)
        det.observe([(prev, new)], state, i * 1000.0)
        prev = new
    assert not [a for a in det.latest(10) if a.kind == "loop"]


def test_centre_losing_a_large_share_at_once() -> None:
    state, det = FeedState(), AlertDetector(mass_share=0.2, mass_min=5, mass_window_s=30)
    rows = [_row(f"AMU-{i:05d}", "AMU", "in_progress") for i in range(20)]
    rows += [_row(f"LILLE-{i:05d}", "LILLE", "in_progress") for i in range(100)]
    state.apply_snapshot({"cursor": 1, "candidates": rows})
    # 5 of AMU's 20 (25 %) and 5 of LILLE's 100 (5 %) drop in the same poll.
    dropped = [dict(r, state="lost") for r in rows[:5] + rows[20:25]]
    det.observe(state.apply_changes({"cursor": 2, "candidates": dropped}), state, 50.0)
    mass = [a for a in det.latest(50) if a.kind == "mass"]
    assert [(a.centre, a.fields["n"], a.fields["pct"]) for a in mass] == [("AMU", 5, 25)]


def test_fraud_alerts_become_alerts() -> None:
    det = AlertDetector()
    det.observe_fraud(
        [
            {
                "id": 7,
                "ts": 12.0,
                "candidate_id": "AMU-00002",
                "centre": "AMU",
                "method": "GET",
                "path": "/correction.php",
            }
        ],
        20.0,
    )
    (alert,) = det.latest(5)
    assert alert.kind == "fraud" and alert.fields["path"] == "/correction.php" and alert.ts == 12.0


def test_a_mass_loss_is_one_line_per_centre_kept_whole_and_cleared_when_back() -> None:
    state, det = FeedState(), AlertDetector()
    state.unit_id = "ue1"
    rows = {f"S-{i}": _row(f"S-{i}", "STRASBOURG", "in_progress") for i in range(652)}
    rows.update({f"A-{i}": _row(f"A-{i}", "AMU", "in_progress") for i in range(30)})
    state.rows = dict(rows)
    det.observe([], state, 0.0)
    gone: list[tuple[Row | None, Row]] = [
        (rows[k], _row(k, "STRASBOURG", "lost")) for k in rows if k.startswith("S-")
    ]
    gone.append((rows["A-1"], _row("A-1", "AMU", "lost")))
    for _old, new in gone:
        state.rows[str(new["id"])] = new
    det.observe(gone, state, 10.0)
    groups = det.groups()
    assert {g.centre for g in groups} == {"STRASBOURG", "AMU"}
    strasbourg = next(g for g in groups if g.centre == "STRASBOURG")
    assert strasbourg.count("lost") == 652 and strasbourg.count("mass") == 1  # all of them
    # Acknowledged by name: it sinks below the unacknowledged, until something new comes.
    det.acknowledge("STRASBOURG", "national", 11.0)
    groups = det.groups()
    assert [g.centre for g in groups] == ["AMU", "STRASBOURG"]
    assert groups[1].acked_by == "national"
    # AMU's tablet comes back: its line clears.
    back: list[tuple[Row | None, Row]] = [(state.rows["A-1"], _row("A-1", "AMU", "in_progress"))]
    state.rows["A-1"] = back[0][1]
    det.observe(back, state, 20.0)
    assert [g.centre for g in det.groups()] == ["STRASBOURG"]
    # The next unit sets the previous one's alerts aside.
    state.unit_id = "ue2"
    det.observe([], state, 30.0)
    assert det.groups() == [] and len(det.latest(10_000)) == 654


def test_acknowledgements_outlive_a_restart_and_are_shared_by_the_feeds(tmp_path: Path) -> None:
    fraud = [{"ts": 100.0, "centre": "CAEN", "candidate_id": "CAEN-00001", "path": "/x"}]
    book = AckBook(tmp_path)
    national, caen = AlertDetector(acks=book), AlertDetector(acks=book)
    national.observe_fraud(fraud, 100.0)
    caen.observe_fraud(fraud, 100.0)
    caen.acknowledge("CAEN", "centre-CAEN", 120.0)  # the centre juror takes it in hand
    assert national.groups()[0].acked_by == "centre-CAEN"  # the national view says so
    book.close()
    # A restart: a new process reads the fraud records again from the first, at their own time.
    again = AlertDetector(acks=AckBook(tmp_path))
    again.observe_fraud(fraud, 500.0)
    [group] = again.groups()
    assert group.acked_by == "centre-CAEN" and group.acked_at == 120.0
    # What came after the acknowledgement is not covered by it.
    again.observe_fraud([{**fraud[0], "ts": 130.0, "candidate_id": "CAEN-00002"}], 500.0)
    assert again.groups()[0].acked_by is None


def test_a_low_battery_is_an_alert_while_the_candidate_works_until_charged() -> None:
    state, det = FeedState(), AlertDetector()
    row = {**_row("CAEN-00001", "CAEN", "in_progress"), "battery": 40, "connected": True}
    state.rows = {"CAEN-00001": row}
    det.observe([], state, 0.0)

    def change(now: float, **f: Any) -> None:
        old = state.rows["CAEN-00001"]
        new = {**old, **f}
        state.rows["CAEN-00001"] = new
        det.observe([(old, new)], state, now)

    change(10.0, battery=16)
    assert det.active() == []
    change(20.0, battery=14)
    [alert] = det.active()
    assert alert.kind == "battery" and alert.fields["pct"] == 14 and alert.centre == "CAEN"
    change(30.0, battery=12)
    change(40.0, battery=20)  # charging, not back yet: no second alert, no clearing
    assert [a.id for a in det.active()] == [alert.id]
    change(50.0, battery=26)
    assert det.active() == []
    # Low while waiting for the next unit is no one's emergency.
    change(60.0, battery=10, state="waiting")
    assert det.active() == []
    # Not an alert for a tablet that reports no battery (a desktop browser).
    change(70.0, battery=None, state="in_progress")
    assert det.active() == []
