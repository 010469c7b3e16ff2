"""The centre view: an AG Grid of the centre's candidates, updated by row transactions.

Rows have stable ids (the candidate id, ``getRowId``), so each refresh sends only
the rows whose rendering changed; the grid keeps its scroll, sort and selection.
"""

from __future__ import annotations

import uuid
from typing import Any

import dash_ag_grid as dag
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.clock import centre_zone_label, local_clock
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.heatmap import STATE_ORDER
from supervision_dashboard.i18n import t
from supervision_dashboard.pages import actions
from supervision_dashboard.pages.common import (
    GRID_COLS,
    GRID_FIT,
    GRID_LOCALE,
    alert_groups,
    badges,
    groups_signature,
    status_line,
)
from supervision_dashboard.rows import grid_delta, grid_row, rooms


def columns(lang: str) -> list[dict[str, Any]]:
    cols = _columns(lang)
    # The grid sizes its columns to their content once, when the first rows arrive: on a
    # busy machine they may arrive with short texts ("—"), and "Jamais connectée" later would
    # be cut. Each width holds its column's longest text, so it is also a floor.
    for c in cols:
        if "width" in c:
            c["minWidth"] = c["width"]
    return cols


def _columns(lang: str) -> list[dict[str, Any]]:
    state_rules = {f"state-{s.value}": f"params.data.state == '{s.value}'" for s in STATE_ORDER}
    return [
        {"field": "rank", "hide": True, "sort": "asc"},
        {"field": "id", "headerName": t("col_id", lang), "pinned": "left", "width": 160},
        {
            "field": "state_label",
            "headerName": t("col_state", lang),
            "width": 140,
            "cellClassRules": state_rules,
        },
        {"field": "connection", "headerName": t("col_connection", lang), "width": 175},
        {"field": "age", "headerName": t("col_age", lang), "width": 135},
        {"field": "question", "headerName": t("col_question", lang), "width": 110},
        {
            "field": "progress",
            "headerName": t("col_progress", lang) + " %",
            "width": 120,
            "type": "numericColumn",
        },
        {"field": "left", "headerName": t("col_left", lang), "width": 145},
        # Where the candidate sits (the room filter above the grid narrows to one room).
        {"field": "room", "headerName": t("col_room", lang), "width": 110},
        {"field": "seat", "headerName": t("col_seat", lang), "width": 90},
        {"field": "last_answer", "headerName": t("col_last_answer", lang), "width": 130},
        {
            # Answers the tablet holds and the server lacks: 0 is the normal case, more
            # than 0 on a connected tablet is the 2023 database failure's first sign.
            "field": "pending",
            "headerName": t("col_pending", lang),
            "width": 130,
            "type": "numericColumn",
            "cellClassRules": {"pending-offline": "params.value > 0"},
        },
        {"field": "extra", "headerName": t("col_extra", lang), "width": 130},
        {
            "field": "planned",
            "headerName": t("col_planned", lang),
            "width": 150,
            "cellClassRules": {"planned-missing": "params.data.planned_missing"},
        },
        {"field": "incident", "headerName": t("col_incident", lang), "width": 140},
        {"field": "to_grant", "headerName": t("col_to_grant", lang), "width": 140},
        {
            "field": "battery",
            "headerName": t("col_battery", lang) + " %",
            "width": 100,
            "type": "numericColumn",
        },
        {
            "field": "reconnects",
            "headerName": t("col_reconnects", lang),
            "width": 120,
            "type": "numericColumn",
        },
        {"field": "disconnected", "headerName": t("col_disconnected", lang), "width": 165},
    ]


def room_options(found: list[tuple[str, int]], lang: str) -> list[dict[str, str]]:
    """« Toutes les salles » first, then each room with its candidates (« Salle 2 · 60 »)."""
    return [{"label": t("room_all", lang), "value": ""}] + [
        {"label": f"{room} · {n}", "value": room} for room, n in found
    ]


def _rooms_of(ctx: AppContext, session: JurySession, centre: str) -> list[tuple[str, int]]:
    feed = ctx.feed_for(session)
    with feed.lock:
        return rooms(r for r in feed.state.rows.values() if r.get("centre") == centre)


def layout(ctx: AppContext, session: JurySession, centre: str) -> Any:
    lang = session.lang
    if not session.may_see(centre):
        return html.Div(t("forbidden", lang), className="error", id="forbidden")
    return html.Div(
        [
            dcc.Store(id="view-id", data=uuid.uuid4().hex),
            dcc.Store(id="centre-code", data=centre),
            ctx.timer("centre-tick"),
            html.H2(
                [
                    t("centre_view", lang),
                    " · ",
                    html.Span(centre, id="centre-title"),
                    html.Span(id="centre-local-time", className="local-time"),
                ]
            ),
            html.Div(id="centre-badges", className="badges"),
            html.Div(
                [
                    html.Div(
                        [
                            # One room at a time: a centre's jury walks its rooms.
                            html.Div(
                                [
                                    html.Span(t("room_filter", lang) + " : "),
                                    dcc.RadioItems(
                                        id="centre-room",
                                        options=room_options(_rooms_of(ctx, session, centre), lang),
                                        value="",
                                        inline=True,
                                    ),
                                ],
                                className="room-filter",
                            ),
                            dag.AgGrid(
                                id="centre-grid",
                                rowData=[],
                                columnDefs=columns(lang),
                                getRowId="params.data.id",
                                defaultColDef=GRID_COLS,
                                **GRID_FIT,
                                style={"height": "560px"},
                                dashGridOptions={
                                    "animateRows": False,
                                    "localeText": GRID_LOCALE.get(lang, {}),
                                },
                            ),
                        ],
                        className="main-col",
                    ),
                    html.Div(
                        [
                            html.H4(t("alerts", lang)),
                            html.Div(id="centre-alerts"),
                            actions.panel(
                                session,
                                actions.CENTRE_ACTIONS,
                                {"centre": centre},
                                paused=actions.centre_paused(ctx, session, centre),
                                incident=actions.incident_summary(ctx, session, centre),
                            ),
                        ],
                        className="side-col",
                    ),
                ],
                className="columns",
            ),
        ]
    )


def centre_refresh(
    ctx: AppContext, session: JurySession, view_id: str, centre: str, room: str | None = None
) -> tuple[Any, ...]:
    lang = session.lang
    feed = ctx.feed_for(session)
    mem = ctx.memory.get(f"{session.identity.username}:{view_id}")
    with feed.lock:
        ts = feed.state.server_ts
        mine = [r for r in feed.state.rows.values() if r.get("centre") == centre]
        # The room filter is applied here: the grid's transactions then add and remove
        # the rows of the room chosen, with no filter state in the browser to go stale.
        rendered = {
            str(r["id"]): grid_row(r, ts, lang) for r in mine if not room or r.get("room") == room
        }
        found = rooms(mine)
        counts = (feed.state.counts.get("centres") or {}).get(centre) or {}
    previous: dict[str, dict[str, Any]] | None = mem.get("rows")
    row_data: Any = no_update
    transaction: Any = no_update
    if previous is None:
        row_data = list(rendered.values())
    else:
        delta = grid_delta(previous, rendered)
        if any(delta.values()):
            transaction = {k: v for k, v in delta.items() if v}
    mem["rows"] = rendered
    badges_out: Any = no_update
    if mem.get("counts") != counts:
        mem["counts"] = counts
        badges_out = badges(counts, lang)
    groups = feed.alert_groups(centre)
    alerts_out: Any = no_update
    sig = groups_signature(groups, ts)
    if mem.get("alerts_sig") != sig:
        mem["alerts_sig"] = sig
        alerts_out = alert_groups(groups, ts, lang, session.may_act_on, detail=True)
    rooms_out: Any = no_update
    if mem.get("rooms") != found:
        mem["rooms"] = found
        rooms_out = room_options(found, lang)
    there = local_clock(ts, centre)
    local = t("local_time", lang, t=there, zone=centre_zone_label(centre)) if there else ""
    return (
        row_data,
        transaction,
        badges_out,
        alerts_out,
        status_line(feed, lang),
        local,
        rooms_out,
    )


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("centre-grid", "rowData"),
        Output("centre-grid", "rowTransaction"),
        Output("centre-badges", "children"),
        Output("centre-alerts", "children"),
        Output("status", "children", allow_duplicate=True),
        Output("centre-local-time", "children"),
        Output("centre-room", "options"),
        Input("centre-tick", "n_intervals"),
        Input("centre-room", "value"),
        State("view-id", "data"),
        State("centre-code", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def refresh(
        _n: int, room: str | None, view_id: str | None, centre: str | None
    ) -> tuple[Any, ...]:
        session = ctx.session()
        # Checked here too: the page's stores are the browser's and can be edited.
        if session is None or not view_id or not centre or not session.may_see(centre):
            raise PreventUpdate
        return centre_refresh(ctx, session, view_id, centre, room or None)

    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Input("centre-grid", "cellClicked"),
        prevent_initial_call=True,
    )
    def open_candidate(cell: dict[str, Any] | None) -> str:
        if not cell or not cell.get("rowId"):
            raise PreventUpdate
        return f"/candidate/{cell['rowId']}"
