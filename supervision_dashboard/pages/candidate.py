"""The candidate view: summary, audit timeline (both timestamps) and fraud alerts.

The timeline is read with the juror's own token, so the server's access rules apply;
a centre juror asking for another centre's candidate gets the server's refusal.
Answer contents stay hidden: only a national juror may reveal them, and the server
audits each reveal. The summary follows the feed, so a grant shows at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, callback_context, dcc, html
from dash.exceptions import PreventUpdate

from supervision_dashboard.clock import clock, clock_ms
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.feed import Row
from supervision_dashboard.i18n import t
from supervision_dashboard.pages import actions
from supervision_dashboard.pages import candidate_actions as cand
from supervision_dashboard.pages.common import GRID_COLS, GRID_FIT, GRID_LOCALE, error_text
from supervision_dashboard.report import cause_text, event_details, kind_text
from supervision_dashboard.rows import duration, grid_row
from vigie.jury_client import JuryApiError
from vigie.protocol import JuryRole

TIMELINE_EVERY_TICKS = 3  # the timeline is a server read: not at every tick


def _answer_text(answer: Any) -> str:
    if not isinstance(answer, Mapping):
        return str(answer)
    if "choices" in answer:
        return ", ".join(str(int(i) + 1) for i in answer["choices"] if isinstance(i, int))
    if "text" in answer:
        return str(answer["text"])
    if "scale" in answer:
        return f"{answer['scale']:+d}" if isinstance(answer["scale"], int) else str(answer["scale"])
    if "points" in answer:
        return "; ".join(f"({x:.2f}, {y:.2f})" for x, y in answer["points"])
    return ""


def details(kind: str, data: Any, lang: str) -> str:
    if not isinstance(data, Mapping):
        return ""
    if kind == "disconnect":
        return cause_text(data.get("reason"), lang)
    if kind == "instruction_ack":
        return t("acked", lang, n=len(data.get("ids") or []))
    text = event_details(kind, data, lang)
    if "answer" in data:  # present only when the server revealed it
        text += f" · {t('answer_content', lang)} : {_answer_text(data['answer'])}"
    if data.get("final"):
        text += " · " + t("answer_final", lang)
    return text[:300]


def _actor(actor: Any, lang: str) -> str:
    text = str(actor or "")
    if text.startswith("jury:"):
        return t("pv_actor_jury", lang, name=text.removeprefix("jury:"))
    return t("pv_actor_candidate", lang) if text == "candidate" else text


def timeline_rows(events: list[dict[str, Any]], lang: str = "fr") -> list[dict[str, Any]]:
    return [
        {
            "seq": e.get("seq"),
            "ts": clock_ms(e.get("ts")),
            "client_ts": clock_ms(e.get("client_ts")),
            "kind": kind_text(e.get("kind"), lang),
            "actor": _actor(e.get("actor"), lang),
            "details": details(str(e.get("kind", "")), e.get("data"), lang),
        }
        for e in events
    ]


def find_row(rows: Mapping[str, Row], candidate_id: str) -> Row | None:
    """Ids are upper case (``AMIENS-00015``); a juror may type them in any case."""
    return rows.get(candidate_id) or rows.get(candidate_id.strip().upper())


def summary(row: Mapping[str, Any], ts: float, lang: str) -> Any:
    g = grid_row(row, ts, lang)
    centre = str(row.get("centre"))
    items = [
        (t("centre", lang), dcc.Link(centre, href=f"/centre/{centre}")),
        (t("col_state", lang), g["state_label"]),
        (t("col_connection", lang), g["connection"]),
        (t("col_age", lang), g["age"]),
        (t("col_question", lang), f"{g['question']} ({g['progress']} %)"),
        (t("col_left", lang), g["left"]),
        (t("col_extra", lang), g["extra"] or "0"),
        (t("col_disconnected", lang), duration(float(row.get("disconnected_s") or 0), lang)),
        (t("col_reconnects", lang), str(g["reconnects"])),
        (t("col_battery", lang), f"{g['battery']} %" if g["battery"] is not None else ""),
    ]
    return html.Table(
        [html.Tr([html.Th(k), html.Td(v, id=f"sum-{i}")]) for i, (k, v) in enumerate(items)],
        className="summary",
    )


def layout(ctx: AppContext, session: JurySession, candidate_id: str) -> Any:
    lang = session.lang
    feed = ctx.feed_for(session)
    with feed.lock:
        row = find_row(feed.state.rows, candidate_id)
        ts = feed.state.server_ts
    # A centre juror's feed holds only their own centre: another centre's candidate is absent.
    if row is None or not session.may_see(str(row.get("centre"))):
        return html.Div(t("not_found", lang), className="error", id="not-found")
    candidate_id = str(row["id"])
    with feed.lock:
        fraud = [a for a in feed.fraud if a.get("candidate_id") == candidate_id]
    national = session.identity.role == JuryRole.NATIONAL
    # Only for a juror who may act: an observer's page asks the server nothing more.
    st = cand.status(ctx, session, candidate_id) if session.may_act_on(row.get("centre")) else None
    # Rendered for everyone (the timeline's callback listens to it), usable by the national jury.
    reveal = html.Div(
        [
            html.Button(t("reveal_answers", lang), id="reveal-answers", n_clicks=0),
            html.Span(" " + t("reveal_note", lang), className="muted"),
        ],
        style={} if national else {"display": "none"},
    )
    return html.Div(
        [
            dcc.Store(id="candidate-id", data=candidate_id),
            dcc.Store(id="timeline-shown", data=0),
            ctx.timer("candidate-tick"),
            html.H2(
                [t("candidate_view", lang), " · ", html.Span(candidate_id, id="candidate-title")]
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(summary(row, ts, lang), id="cand-summary"),
                            html.H4(t("timeline", lang)),
                            reveal,
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
                                    {"field": "kind", "headerName": t("event", lang), "width": 200},
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
                                defaultColDef=GRID_COLS,
                                **GRID_FIT,
                                dashGridOptions={"localeText": GRID_LOCALE.get(lang, {})},
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
                                    html.Li(f"{clock(a.get('ts'))} {a.get('path', '')}")
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
                                offered=cand.offer(actions.CANDIDATE_ACTIONS, st),
                                note=cand.note(st, lang),
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
        Output("timeline-shown", "data"),
        Input("candidate-tick", "n_intervals"),
        Input("reveal-answers", "n_clicks"),
        State("candidate-id", "data"),
        State("timeline-shown", "data"),
    )
    def load_timeline(
        n: int | None, reveals: int | None, candidate_id: str | None, displayed: int | None
    ) -> tuple[Any, str, int]:
        session = ctx.session()
        if session is None or not candidate_id:
            raise PreventUpdate
        clicked = any(p["prop_id"].startswith("reveal-answers") for p in callback_context.triggered)
        national = session.identity.role == JuryRole.NATIONAL
        # Shown after an odd number of clicks: one audited read, then the timeline holds
        # still (no re-read every few seconds, each of which would be another reveal).
        wanted = int(reveals or 0) if national and (reveals or 0) % 2 else 0
        # The browser drops the answer of a callback overtaken by the next tick's, so
        # the page says which reveal it shows: a reveal it never received is read again.
        current = (displayed or 0) == wanted
        if not clicked and current and (wanted or (n and n % TIMELINE_EVERY_TICKS)):
            raise PreventUpdate
        try:
            doc = ctx.client_for(session).timeline(candidate_id, answers=bool(wanted))
        except JuryApiError as exc:
            return [], error_text(exc, session.lang), 0
        return timeline_rows(list(doc.get("events", [])), session.lang), "", wanted

    @app.callback(
        Output("cand-summary", "children"),
        Input("candidate-tick", "n_intervals"),
        State("candidate-id", "data"),
        prevent_initial_call=True,
    )
    def refresh_summary(_n: int | None, candidate_id: str | None) -> Any:
        session = ctx.session()
        if session is None or not candidate_id:
            raise PreventUpdate
        feed = ctx.feed_for(session)
        with feed.lock:
            row = feed.state.rows.get(candidate_id)
            ts = feed.state.server_ts
        if row is None or not session.may_see(str(row.get("centre"))):
            raise PreventUpdate
        return summary(row, ts, session.lang)
