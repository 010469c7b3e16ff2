"""The header's own callbacks: the dead-feed banner, the candidate search, alert acknowledgements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext
from supervision_dashboard.i18n import t
from supervision_dashboard.pages.common import feed_banner

SEARCH_LIMIT = 12


def search_candidates(rows: Mapping[str, Any], query: str) -> list[str]:
    """Ids matching what a juror typed: exact first (any case), else those containing it."""
    q = query.strip().upper()
    if q in rows:
        return [q]
    return sorted(cid for cid in rows if q in cid)[:SEARCH_LIMIT]


def register(app: Dash, ctx: AppContext, refresh_ms: int) -> None:
    @app.callback(
        Output("feed-banner", "children"),
        Output("feed-banner", "className"),
        Input("app-tick", "n_intervals"),
        State("feed-banner", "className"),
    )
    def _banner(_n: int | None, shown: str | None) -> tuple[Any, str]:
        # Only the banner is written: the page's figures are greyed by CSS (`.on + main`),
        # never by a callback racing the router for the page element.
        session = ctx.session()
        if session is None:
            raise PreventUpdate
        text = feed_banner(ctx.feeds.get(session.scope), refresh_ms / 1000, session.lang)
        if text is None:
            if shown == "feed-banner":
                raise PreventUpdate
            return "", "feed-banner"
        return text, "feed-banner on"

    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Output("search-results", "children"),
        Input("search", "value"),
        prevent_initial_call=True,
    )
    def _search(query: str | None) -> tuple[Any, Any]:
        session = ctx.session()
        if session is None or not (query or "").strip():
            raise PreventUpdate
        feed = ctx.feed_for(session)
        with feed.lock:
            found = search_candidates(feed.state.rows, query or "")
        lang = session.lang
        if len(found) == 1:
            return f"/candidate/{found[0]}", ""
        if not found:
            return no_update, html.Span(t("search_none", lang), className="muted")
        links = [dcc.Link(cid, href=f"/candidate/{cid}") for cid in found]
        return no_update, html.Div(links, id="search-list")

    @app.callback(
        Output("ack-store", "data"),
        Input({"type": "ack-alert", "centre": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _acknowledge(clicks: list[int | None]) -> Any:
        session = ctx.session()
        trigger = callback_context.triggered_id
        if session is None or not isinstance(trigger, Mapping) or not any(clicks or []):
            raise PreventUpdate
        centre = str(trigger.get("centre", ""))
        if not session.may_act_on(centre):  # observers read only; a centre juror: its own
            raise PreventUpdate
        # Every feed that shows this centre's alerts records who took them in hand.
        for feed in ctx.feeds.all():
            if feed.centre in (None, centre):
                feed.acknowledge(centre, session.identity.username)
        return centre
