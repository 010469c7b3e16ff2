"""The national view: counts by state, the 12,000-cell heat-map, incidents first, alerts.

Each refresh reads the process's shared feed and sends each open page only what
changed since that page's previous refresh (a Patch of heat-map cells, or nothing).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import dash_ag_grid as dag
from dash import Dash, Input, Output, Patch, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.feed import Feed
from supervision_dashboard.heatmap import (
    INCIDENT_VALUES,
    SEVERITY,
    STATE_ORDER,
    Grid,
    build_grid,
    diff_cells,
    figure,
    is_incident,
)
from supervision_dashboard.i18n import t
from supervision_dashboard.pages import national_banner, units
from supervision_dashboard.pages.common import (
    GRID_COLS,
    GRID_FIT,
    GRID_LOCALE,
    alert_groups,
    badges,
    groups_signature,
    status_line,
)
from supervision_dashboard.rows import grid_delta

# Past this many changed cells one Patch op per cell costs more than the whole matrix.
MAX_PATCHED_CELLS = 300
INCIDENT_LIST_SIZE = 40
# Centres are re-ranked by incidents at most this often: rows that jump every refresh
# are unreadable for the jury, and a new order means re-sending the whole matrix.
ORDER_HOLD_S = 10.0

_cache_lock = threading.Lock()
_grid_cache: dict[tuple[int, bool], tuple[int, Grid]] = {}
_order: dict[tuple[int, bool], tuple[float, list[str]]] = {}


def shared_grid(feed: Feed, only_incidents: bool) -> tuple[int, Grid]:
    """The grid for this feed version, built once however many jurors refresh."""
    key = (id(feed), only_incidents)
    with feed.lock:
        version = feed.state.version
        with _cache_lock:
            hit = _grid_cache.get(key)
        if hit is not None and hit[0] == version:
            return hit
        now = time.monotonic()
        with _cache_lock:
            held = _order.get(key)
        pinned = held[1] if held is not None and now - held[0] < ORDER_HOLD_S else None
        grid = build_grid(feed.state.rows.values(), only_incidents, pinned)
    with _cache_lock:
        _grid_cache[key] = (version, grid)
        if pinned is None:
            _order[key] = (now, [c for _, c in grid.ticks])
    return version, grid


def centre_rows(counts: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for code, by_state in sorted((counts.get("centres") or {}).items()):
        row: dict[str, Any] = {"centre": code}
        row.update({s.value: int(by_state.get(s.value, 0)) for s in STATE_ORDER})
        row["incidents"] = sum(row[s] for s in INCIDENT_VALUES)
        row["total"] = sum(int(by_state.get(s.value, 0)) for s in STATE_ORDER)
        out.append(row)
    return out


def incident_rows(feed: Feed) -> list[tuple[str, str, str]]:
    with feed.lock:
        rows = [
            (str(r["id"]), str(r.get("centre", "")), str(r["state"]))
            for r in feed.state.rows.values()
            if is_incident(r)
        ]
    rows.sort(key=lambda x: (SEVERITY.get(x[2], 9), x[1], x[0]))
    return rows[:INCIDENT_LIST_SIZE]


def layout(ctx: AppContext, session: JurySession) -> Any:
    lang = session.lang
    states = [
        {"field": s.value, "headerName": t(s.value, lang), "width": 110, "type": "numericColumn"}
        for s in STATE_ORDER
    ]
    return html.Div(
        [
            dcc.Store(id="view-id", data=uuid.uuid4().hex),
            ctx.timer("tick"),
            html.H2(t("national_view", lang)),
            html.Div(id="nat-counts", className="badges"),
            national_banner.placeholder(ctx),
            units.panel(ctx, session),
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Checklist(
                                id="only-incidents",
                                options=[{"label": " " + t("only_incidents", lang), "value": "on"}],
                                value=[],
                                className="switch",
                            ),
                            html.H4(t("heatmap", lang)),
                            dcc.Graph(
                                id="heatmap",
                                figure={"data": [], "layout": {"height": 300}},
                                config={"displayModeBar": False},
                            ),
                        ],
                        className="main-col",
                    ),
                    html.Div(
                        [
                            html.H4(t("alerts", lang)),
                            html.Div(id="nat-alerts"),
                            html.H4(t("incidents", lang)),
                            dag.AgGrid(
                                id="incident-grid",
                                rowData=[],
                                getRowId="params.data.id",
                                columnDefs=[
                                    {"field": "rank", "hide": True, "sort": "asc"},
                                    {"field": "id", "headerName": t("col_id", lang), "width": 130},
                                    {
                                        "field": "centre",
                                        "headerName": t("centre", lang),
                                        "width": 110,
                                    },
                                    {
                                        "field": "label",
                                        "headerName": t("col_state", lang),
                                        "width": 110,
                                        "cellClassRules": {
                                            f"state-{s}": f"params.data.state == '{s}'"
                                            for s in INCIDENT_VALUES
                                        },
                                    },
                                ],
                                style={"height": "320px"},
                                dashGridOptions={
                                    "localeText": GRID_LOCALE.get(lang, {}),
                                    "animateRows": False,
                                    "headerHeight": 28,
                                    "rowHeight": 26,
                                },
                            ),
                        ],
                        className="side-col",
                    ),
                ],
                className="columns",
            ),
            html.H4(t("centre", lang)),
            dag.AgGrid(
                id="centre-counts",
                rowData=[],
                columnDefs=[
                    {
                        "field": "centre",
                        "headerName": t("centre", lang),
                        "pinned": "left",
                        "width": 140,
                    },
                    {
                        "field": "incidents",
                        "headerName": t("incidents", lang),
                        "sort": "desc",
                        "width": 110,
                    },
                    *states,
                    {"field": "total", "headerName": t("total", lang), "width": 90},
                ],
                getRowId="params.data.centre",
                defaultColDef={**GRID_COLS, "filter": False},
                **GRID_FIT,
                style={"height": "420px"},
                dashGridOptions={"animateRows": False, "localeText": GRID_LOCALE.get(lang, {})},
            ),
        ]
    )


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("heatmap", "figure"),
        Output("nat-counts", "children"),
        Output("centre-counts", "rowData"),
        Output("centre-counts", "rowTransaction"),
        Output("incident-grid", "rowData"),
        Output("incident-grid", "rowTransaction"),
        Output("nat-alerts", "children"),
        Output("status", "children", allow_duplicate=True),
        Input("tick", "n_intervals"),
        Input("only-incidents", "value"),
        State("view-id", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def refresh(_n: int, only: list[str] | None, view_id: str | None) -> tuple[Any, ...]:
        session = ctx.session()
        # A centre juror never receives national data, even by calling this endpoint by hand.
        if session is None or session.scope is not None or not view_id:
            raise PreventUpdate
        return national_refresh(ctx, session, view_id, bool(only))

    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Input("heatmap", "clickData"),
        State("view-id", "data"),
        prevent_initial_call=True,
    )
    def open_cell(click: dict[str, Any] | None, view_id: str | None) -> str:
        session = ctx.session()
        if session is None or not click or not view_id:
            raise PreventUpdate
        grid = ctx.memory.get(f"{session.identity.username}:{view_id}").get("grid")
        point = (click.get("points") or [{}])[0]
        try:
            cid = grid.ids[int(point["y"])][int(point["x"])] if grid else None
        except (KeyError, IndexError, TypeError, ValueError):
            cid = None
        if not cid:
            raise PreventUpdate
        return f"/candidate/{cid}"

    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Input("incident-grid", "cellClicked"),
        prevent_initial_call=True,
    )
    def open_incident(cell: dict[str, Any] | None) -> str:
        if not cell or not cell.get("rowId"):
            raise PreventUpdate
        return f"/candidate/{cell['rowId']}"

    @app.callback(
        Output("url", "pathname", allow_duplicate=True),
        Input("centre-counts", "cellClicked"),
        prevent_initial_call=True,
    )
    def open_centre(cell: dict[str, Any] | None) -> str:
        if not cell or not cell.get("rowId"):
            raise PreventUpdate
        return f"/centre/{cell['rowId']}"


def national_refresh(
    ctx: AppContext, session: JurySession, view_id: str, only_incidents: bool
) -> tuple[Any, ...]:
    """Outputs of one refresh of one national page; ``no_update`` where nothing changed."""
    lang = session.lang
    feed = ctx.feed_for(session)
    mem = ctx.memory.get(f"{session.identity.username}:{view_id}")
    version, grid = shared_grid(feed, only_incidents)

    fig: Any = no_update
    old: Grid | None = mem.get("grid")
    if old is None or old.key != grid.key:
        labels = [t(s.value, lang) for s in STATE_ORDER]
        empty = t("no_incident_now" if only_incidents else "no_candidate", lang)
        fig = figure(grid, labels=labels, empty_text=empty)
    elif old is not grid:
        cells = diff_cells(old.z, grid.z)
        if cells:
            fig = Patch()
            if len(cells) > MAX_PATCHED_CELLS:
                fig["data"][0]["z"] = grid.z
            else:
                for r, c, v in cells:
                    fig["data"][0]["z"][r][c] = v
    mem["grid"] = grid

    with feed.lock:
        counts = feed.state.counts
    national = counts.get("national") or {}
    badge_out: Any = no_update
    if mem.get("national") != national or mem.get("lang") != lang:
        badge_out = badges(national, lang)
        mem["national"] = national
    centres_data, centres_tx = _delta_outputs(
        mem, "centres", {r["centre"]: r for r in centre_rows(counts)}
    )
    incidents = {
        cid: {
            "id": cid,
            "centre": centre,
            "state": state,
            "label": t(state, lang),
            "rank": SEVERITY.get(state, 9),
        }
        for cid, centre, state in incident_rows(feed)
    }
    incidents_data, incidents_tx = _delta_outputs(mem, "incidents", incidents)

    now = feed.state.server_ts
    groups = feed.alert_groups()
    alerts_out: Any = no_update
    sig = (groups_signature(groups, now), lang)
    if mem.get("alerts_sig") != sig:
        mem["alerts_sig"] = sig
        alerts_out = alert_groups(groups, now, lang, session.may_act_on, detail=False)
    mem["lang"] = lang
    mem["version"] = version
    return (
        fig,
        badge_out,
        centres_data,
        centres_tx,
        incidents_data,
        incidents_tx,
        alerts_out,
        status_line(feed, lang),
    )


def _delta_outputs(
    mem: dict[str, Any], name: str, rows: dict[str, dict[str, Any]]
) -> tuple[Any, Any]:
    """(rowData, rowTransaction) for a grid: everything the first time, then changes only."""
    previous = mem.get(name)
    mem[name] = rows
    if previous is None:
        return list(rows.values()), no_update
    delta = grid_delta(previous, rows)
    if not any(delta.values()):
        return no_update, no_update
    return no_update, {k: v for k, v in delta.items() if v}
