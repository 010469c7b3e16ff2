"""The centre's incident time in the action panel: what the server proposes to grant
(each candidate's time disconnected, rounded up to the minute), followed live."""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.rows import duration, incident_to_grant


def incident_summary(ctx: AppContext, session: JurySession, centre: str | None) -> str:
    """The centre's incident time to grant, from the feed: candidates and minutes."""
    feed = ctx.feed_for(session)
    with feed.lock:
        todo = [incident_to_grant(r) for r in feed.state.rows.values() if r.get("centre") == centre]
    todo = [s for s in todo if s > 0]
    if not todo:
        return t("incident_none", session.lang)
    return t("incident_proposed", session.lang, n=len(todo), d=duration(sum(todo), session.lang))


def register_incident(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("act-incident-summary", "children"),
        Input("act-tick", "n_intervals"),
        State("act-target", "data"),
        State("act-incident-summary", "children"),
        prevent_initial_call=True,
    )
    def follow_incident(_n: int | None, target: dict[str, str] | None, shown: Any) -> str:
        session = ctx.session()
        if session is None or not target or target.get("candidate_id"):
            raise PreventUpdate
        text = incident_summary(ctx, session, target.get("centre"))
        if text == shown:
            raise PreventUpdate
        return text
