"""Planned and incident extra time in the jury view: grid cells, the alert, the grant action."""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest

from supervision_dashboard.alerts import AlertDetector
from supervision_dashboard.app import create_app
from supervision_dashboard.context import JurySession
from supervision_dashboard.feed import Feed, FeedState
from supervision_dashboard.pages import actions
from supervision_dashboard.pages.common import alert_text, group_summary
from supervision_dashboard.rows import grid_row
from vigie.jury_client import JuryApiError, JuryClient, JuryIdentity


def _row(cid: str, **kw: Any) -> dict[str, Any]:
    base = {"id": cid, "centre": cid.rsplit("-", 1)[0], "state": "in_progress", "reconnects": 0}
    return {**base, **kw}


def test_the_grid_shows_planned_and_incident_time_apart() -> None:
    row = _row(
        "AMU-00001",
        extra_time_s=3600 + 120,
        planned_extra_s=3600,
        planned_due_s=3600,
        incident_extra_s=120,
        proposed_incident_s=180,
    )
    g = grid_row(row, 0.0)
    assert (g["extra"], g["planned"], g["incident"], g["to_grant"]) == (
        "1 h 02 min",
        "1 h 00 min",
        "2 min",
        "1 min",
    )
    missing = grid_row(_row("AMU-00002", planned_due_s=1200, planned_missing=True), 0.0)
    assert missing["planned"] == "⚠ 0 s / 20 min dus" and missing["planned_missing"]
    assert grid_row(_row("AMU-00003"), 0.0)["planned"] == ""


def test_planned_time_missing_raises_an_alert_until_it_is_made_up() -> None:
    state, det = FeedState(), AlertDetector()
    state.apply_snapshot({"cursor": 1, "unit_id": "ue1", "candidates": []})
    bad = _row("LYON-00001", planned_missing=True, planned_due_s=3600)
    det.observe([(None, bad)], state, 10.0)
    det.observe([(bad, dict(bad, answered=3))], state, 11.0)  # still missing: not news
    [alert] = det.active()
    assert alert.kind == "planned" and alert.centre == "LYON"
    assert alert_text(alert, "fr") == (
        "Tiers-temps non appliqué : LYON-00001 (échéance sans ses 60 min prévues)"
    )
    [group] = det.groups()
    assert group_summary(group, "en") == "1 planned extra time missing"
    det.observe([(bad, dict(bad, planned_missing=False))], state, 20.0)  # the jury granted it
    assert det.active() == []


def test_the_centre_panel_sums_the_incident_time_to_grant() -> None:
    _, ctx = create_app("http://127.0.0.1:9")  # never polled: the feed is installed
    feed = Feed(ctx.server_url, "t")
    feed.state.apply_snapshot(
        {
            "cursor": 1,
            "unit_id": "ue1",
            "candidates": [
                _row("AMU-00001", proposed_incident_s=120),
                _row("AMU-00002", proposed_incident_s=180, incident_extra_s=60),
                _row("AMU-00003", proposed_incident_s=60, incident_extra_s=60),
                _row("LILLE-00001", proposed_incident_s=600),
            ],
        }
    )
    ctx.feeds.install(feed)
    session = JurySession(JuryIdentity("t", "national", "national", None))
    assert actions.incident_summary(ctx, session, "AMU") == (
        "Proposé : 2 candidat(s), 4 min au total (temps déconnecté, arrondi à la minute)"
    )
    assert actions.incident_summary(ctx, session, "NANTES") == "Aucun temps d'incident à accorder."
    assert "incident_centre" in actions.available(actions.CENTRE_ACTIONS, paused=False)


def test_the_grant_action_reaches_the_server_within_the_juror_s_scope(
    exam_server: str, jury_api: Any, national_token: str
) -> None:
    try:
        jury_api.post("/jury/units/ue1/launch", {"reason": "test", "duration_s": 900}, national_token)  # fmt: skip
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # launched by an earlier test of this module's server
            raise
    _, ctx = create_app(exam_server)
    national = JurySession(JuryClient(exam_server).login("national", "national-demo"))
    actions.execute(ctx, national, "incident_centre", {"centre": "AMU"}, None, None, "coupure")
    amu = JurySession(JuryClient(exam_server).login("centre-AMU", "centre-demo"))
    actions.execute(ctx, amu, "incident_centre", {"centre": "AMU"}, None, None, "coupure")
    with pytest.raises(JuryApiError) as refused:
        actions.execute(ctx, amu, "incident_centre", {"centre": "LILLE"}, None, None, "x")
    assert refused.value.status == 403
    doc = JuryClient(exam_server, national.identity.token).incident_time("AMU")
    assert doc["unit_id"] == "ue1"
    rows = JuryClient(exam_server, national.identity.token).snapshot()["candidates"]
    assert all("planned_due_s" in r and "proposed_incident_s" in r for r in rows)
