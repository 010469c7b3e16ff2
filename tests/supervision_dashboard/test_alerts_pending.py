"""The pending-answers alert: a connected tablet whose answers do not reach the server
(the 2023 database failure's first sign), raised past two refreshes, cleared at 0."""

from __future__ import annotations

from typing import Any

from supervision_dashboard.alerts import AlertDetector
from supervision_dashboard.feed import FeedState
from supervision_dashboard.pages.common import alert_text, group_summary


def _row(cid: str, pending: int, **more: Any) -> dict[str, Any]:
    return {"id": cid, "centre": cid.rsplit("-", 1)[0], "state": "in_progress",
            "connected": True, "paused": False, "pending_offline": pending} | more  # fmt: skip


def _poll(det: AlertDetector, state: FeedState, ts: float, *rows: dict[str, Any]) -> None:
    """One feed poll: only the rows that changed come in, as from /jury/changes."""
    changed = state.apply_changes({"cursor": int(ts), "server_ts": ts, "candidates": list(rows)})
    det.observe(changed, state, ts)


def _pending(det: AlertDetector) -> list[Any]:
    return [a for a in det.active() if a.kind == "pending"]


def test_answers_pending_past_two_refreshes_raise_one_alert_cleared_at_zero() -> None:
    state, det = FeedState(), AlertDetector()
    state.apply_snapshot(
        {"cursor": 0, "candidates": [_row("CAEN-00001", 0), _row("CAEN-00002", 0)]}
    )
    _poll(det, state, 1.0, _row("CAEN-00001", 2))  # counted on the tablet, not stored yet
    _poll(det, state, 2.0)  # the row is not re-sent: still pending
    assert _pending(det) == []  # two refreshes: maybe in transit
    _poll(det, state, 3.0)
    (alert,) = _pending(det)
    assert (alert.candidate_id, alert.centre, alert.fields["n"]) == ("CAEN-00001", "CAEN", 2)
    assert alert_text(alert, "fr") == (
        "Réponses non reçues par le serveur : CAEN-00001 (2 en attente sur la tablette connectée)"
    )
    assert alert_text(alert, "en").startswith("Answers not reaching the server: CAEN-00001")
    (group,) = det.groups()
    assert group.centre == "CAEN" and group_summary(group, "fr") == (
        "1 tablette(s) aux réponses en attente"
    )
    _poll(det, state, 4.0, _row("CAEN-00001", 3))  # still not landing: no second alert
    _poll(det, state, 5.0)
    assert len(_pending(det)) == 1
    _poll(det, state, 6.0, _row("CAEN-00001", 0))  # the answers got through
    assert _pending(det) == [] and det.groups() == []


def test_an_answer_in_transit_paused_or_offline_tablets_raise_nothing() -> None:
    state, det = FeedState(), AlertDetector()
    rows = [_row("AMU-00001", 0), _row("AMU-00002", 0), _row("AMU-00003", 0)]
    state.apply_snapshot({"cursor": 0, "candidates": rows})
    _poll(det, state, 1.0, _row("AMU-00001", 1))
    _poll(det, state, 2.0, _row("AMU-00001", 0))  # stored at the next refresh: in transit
    # Paused: answers wait on the tablet by design. Disconnected: kept offline, the tablet
    # is a loss (its own alert), not answers failing on a live connection.
    _poll(det, state, 3.0, _row("AMU-00002", 4, paused=True), _row("AMU-00003", 4, connected=False))
    for ts in (4.0, 5.0, 6.0):
        _poll(det, state, ts)
    assert _pending(det) == []
    # The streak starts again once connected: three refreshes in a row.
    _poll(det, state, 7.0, _row("AMU-00003", 4))
    _poll(det, state, 8.0)
    assert _pending(det) == []
    _poll(det, state, 9.0)
    assert [a.candidate_id for a in _pending(det)] == ["AMU-00003"]


def test_a_tablet_already_stuck_when_the_dashboard_starts_is_counted_from_there() -> None:
    state, det = FeedState(), AlertDetector()
    # The first snapshot is the starting picture: its row will not be re-sent while stuck.
    state.apply_snapshot({"cursor": 0, "candidates": [_row("LILLE-00001", 5)]})
    for ts in (1.0, 2.0, 3.0):
        _poll(det, state, ts)
    assert [a.fields["n"] for a in _pending(det)] == [5]


def test_the_next_unit_sets_the_pending_alert_aside() -> None:
    state, det = FeedState(), AlertDetector()
    state.apply_snapshot({"cursor": 0, "unit_id": "ue1", "candidates": [_row("AMU-00001", 2)]})
    for ts in (1.0, 2.0, 3.0):
        _poll(det, state, ts)
    assert len(_pending(det)) == 1
    changed = state.apply_changes(
        {"cursor": 9, "unit_id": "ue2", "candidates": [_row("AMU-00001", 0, unit_id="ue2")]}
    )
    det.observe(changed, state, 10.0)
    assert _pending(det) == []
