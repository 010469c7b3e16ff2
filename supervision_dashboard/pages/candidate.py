"""The candidate view: summary, audit timeline (both timestamps) and fraud alerts.

The timeline is read with the juror's own token, so the server's access rules apply;
a centre juror asking for another centre's candidate gets the server's refusal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.jury_client import JuryApiError
from supervision_dashboard.pages import actions
from supervision_dashboard.pages.common import error_text
from supervision_dashboard.rows import duration, grid_row

TIMELINE_EVERY_TICKS = 3  # the timeline is a server read: not at every tick


def _clock(ts: Any) -> str:
    if not isinstance(ts, int | float):
        return ""
    return dt.datetime.fromtimestamp(float(ts)).strftime("%H:%M:%S.%f")[:-3]


def _details(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    return ", ".join(f"{k}={v}" for k, v in data.items())[:300]


def timeline_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.get("seq"),
            "ts": _clock(e.get("ts")),
            "client_ts": _clock(e.get("client_ts")),
            "kind": e.get("kind"),
            "actor": e.get("actor"),
            "details": _details(e.get("data")),
        }
        for e in events
    ]


def layout(ctx: AppContext, session: JurySession, candidate_id: str) -> Any:
    lang = session.lang
    feed = ctx.feed_for(session)
    with feed.lock:
        row = feed.state.rows.get(candidate_id)
        ts = feed.state.server_ts
        fraud = [a for a in feed.fraud if a.get("candidate_id") == candidate_id]
    # A centre juror's feed holds only their own centre: another centre's candidate is absent.
    if row is None or not session.may_see(str(row.get("centre"))):
        return html.Div(t("not_found", lang), className="error", id="not-found")
    g = grid_row(row, ts, lang)
    summary = [
        (t("centre", lang), dcc.Link(str(row.get("centre")), href=f"/centre/{row.get('centre')}")),
        (t("col_state", lang), g["state_label"]),
        (t("col_question", lang), f"{g['question']} ({g['progress']} %)"),
        (t("col_left", lang), g["left"]),
        (t("col_extra", lang), g["extra"] or "0"),
        (t("col_disconnected", lang), duration(float(row.get("disconnected_s") or 0))),
        (t("col_reconnects", lang), str(g["reconnects"])),
        (t("col_battery", lang), f"{g['battery']} %" if g["battery"] is not None else ""),
    ]
    return html.Div(
        [
            dcc.Store(id="candidate-id", data=candidate_id),
            html.H2(
                [t("candidate_view", lang), " · ", html.Span(candidate_id, id="candidate-title")]
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.Table(
                                [html.Tr([html.Th(k), html.Td(v)]) for k, v in summary],
                                className="summary",
                            ),
                            html.H4(t("timeline", lang)),
                            dag.AgGrid(
                                id="timeline",
                                rowData=[],
                                getRowId="params.data.seq",
                                columnDefs=[
                                    {
                                        "field": "seq",
                                        "headerName": "#",
                                        "width": 70,
                                        "sort": "desc",
                                    },
                                    {
                                        "field": "ts",
                                        "headerName": t("ts_server", lang),
                                        "width": 150,
                                    },
                                    {
                                        "field": "client_ts",
                                        "headerName": t("ts_client", lang),
                                        "width": 150,
                                    },
                                    {"field": "kind", "headerName": t("event", lang), "width": 140},
                                    {
                                        "field": "actor",
                                        "headerName": t("actor", lang),
                                        "width": 160,
                                    },
                                    {
                                        "field": "details",
                                        "headerName": t("details", lang),
                                        "flex": 1,
                                    },
                                ],
                                defaultColDef={"resizable": True, "sortable": True, "filter": True},
                                style={"height": "420px"},
                            ),
                            html.Div(id="timeline-error", className="error"),
                        ],
                        className="main-col",
                    ),
                    html.Div(
                        [
                            html.H4(t("fraud_alerts", lang)),
                            html.Ul(
                                [
                                    html.Li(
                                        f"{_clock(a.get('ts'))} {a.get('method', '')} {a.get('path', '')}"
                                    )
                                    for a in fraud
                                ]
                            )
                            if fraud
                            else html.P(t("no_fraud", lang), className="muted"),
                            actions.panel(
                                session,
                                actions.CANDIDATE_ACTIONS,
                                {"candidate_id": candidate_id, "centre": str(row.get("centre"))},
                                proposed_s=float(row.get("disconnected_s") or 0),
                            ),
                        ],
                        className="side-col",
                    ),
                ],
                className="columns",
            ),
        ]
    )


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("timeline", "rowData"),
        Output("timeline-error", "children"),
        Input("tick", "n_intervals"),
        State("candidate-id", "data"),
    )
    def load_timeline(n: int | None, candidate_id: str | None) -> tuple[Any, str]:
        session = ctx.session()
        if session is None or not candidate_id:
            raise PreventUpdate
        if n and n % TIMELINE_EVERY_TICKS:
            raise PreventUpdate
        try:
            events = ctx.client_for(session).timeline(candidate_id).get("events", [])
        except JuryApiError as exc:
            return [], error_text(exc, session.lang)
        return timeline_rows(list(events)), ""
