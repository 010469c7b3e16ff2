"""The « Test de connexion » page: the Monday connection test per centre, its slowest tablets,
and the CSV export for the centre's report (docs/connection-test.md).

A centre juror sees their own centre whatever the URL asks (the server refuses the others
too); the page is read on load, as the figures change only when a tablet reports.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import flask
from dash import html
from werkzeug.wrappers import Response

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.pages.common import GRID_COLS, GRID_FIT, GRID_LOCALE, error_text
from vigie.jury_client import JuryApiError

PATH = "/connection-test"


def _triple(*values: Any) -> str:
    return " / ".join("—" if v is None else f"{v:g}" for v in values)


def centre_rows(centres: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """One row per centre; centres where tablets reported first, then by code."""
    ordered = sorted(centres, key=lambda c: (c["tablets"] == 0, c["centre"]))
    return [
        {
            "id": c["centre"],
            "centre": c["centre"],
            "test_code": c["test_code"] or "—",
            "tablets": c["tablets"],
            "ready": t("ct_ready_of", lang, ready=c["ready"], n=c["tablets"]),
            "rtt": _triple(c["rtt_p50_ms"], c["rtt_p95_ms"], c["rtt_max_ms"]),
            "download": _triple(c["download_p50_s"], c["download_p95_s"], c["download_max_s"]),
            "throughput": _triple(c["throughput_p50_mbps"], c["throughput_min_mbps"]),
            "reconnects": c["reconnects"],
        }
        for c in ordered
    ]


def tablet_rows(tablets: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{x['centre']}/{x['tablet']}",
            "centre": x["centre"],
            "tablet": x["tablet"],
            "ready": t("ct_yes" if x["ready"] else "ct_no", lang),
            "download_s": x["download_s"],
            "mbps": x["throughput_mbps"],
            "rtt_p95": x["rtt_p95_ms"],
            "reconnects": x["reconnects"],
            "problems": "; ".join(x["problems"]),
        }
        for x in tablets
    ]


CENTRE_COLS = (
    ("centre", "centre"), ("test_code", "ct_test_code"), ("tablets", "ct_tablets"),
    ("ready", "ct_ready"), ("rtt", "ct_rtt"), ("download", "ct_download"),
    ("throughput", "ct_throughput"), ("reconnects", "ct_reconnects"),
)  # fmt: skip
TABLET_COLS = (
    ("centre", "centre"), ("tablet", "ct_tablet"), ("ready", "ct_verdict"),
    ("download_s", "ct_download_s"), ("mbps", "ct_mbps"), ("rtt_p95", "ct_rtt_p95"),
    ("reconnects", "ct_reconnects"), ("problems", "ct_problems"),
)  # fmt: skip


def _grid(grid_id: str, rows: list[dict[str, Any]], cols: Any, lang: str, height: int) -> Any:
    if not rows:
        return html.P(t("empty", lang), className="muted", id=f"{grid_id}-empty")
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        getRowId="params.data.id",
        columnDefs=[{"field": f, "headerName": t(key, lang)} for f, key in cols],
        defaultColDef=GRID_COLS,
        **GRID_FIT,
        style={"height": f"{min(height, 60 + 42 * len(rows))}px"},  # no empty half-screen
        dashGridOptions={"localeText": GRID_LOCALE.get(lang, {})},
    )


def layout(ctx: AppContext, session: JurySession) -> Any:
    lang = session.lang
    centre = session.scope
    try:
        doc = ctx.client_for(session).connection_test(centre)
    except JuryApiError as exc:
        return html.Div(error_text(exc, lang), className="error", id="conntest-error")
    slowest = [x for c in doc["centres"] for x in c["slowest"]]
    slowest.sort(key=lambda x: -x["download_s"])
    query = f"?centre={centre}" if centre else ""
    return html.Div(
        [
            html.H2(f"{t('connection_test', lang)} — {centre or t('national', lang)}"),
            html.P(t("ct_intro", lang), className="muted"),
            html.P(html.A(t("export_csv", lang), href=f"{PATH}.csv{query}", id="conntest-csv")),
            html.H4(t("ct_centres", lang)),
            _grid("conntest-centres", centre_rows(doc["centres"], lang), CENTRE_COLS, lang, 300),
            html.H4(t("ct_slowest", lang)),
            _grid("conntest-slowest", tablet_rows(slowest[:5], lang), TABLET_COLS, lang, 220),
            html.H4(t("ct_tablets_title", lang)),
            _grid("conntest-tablets", tablet_rows(doc["tablets"], lang), TABLET_COLS, lang, 360),
        ]
    )


def install_export(server: flask.Flask, ctx: AppContext) -> None:
    @server.route(f"{PATH}.csv", endpoint="connection_test_csv")
    def _csv() -> Response:
        session = ctx.session()
        if session is None:
            return flask.redirect("/login")
        centre = session.scope or flask.request.args.get("centre") or None
        try:
            body = ctx.client_for(session).connection_test_csv(centre)
        except JuryApiError as exc:
            return Response(
                flask.json.dumps({"error": {"code": exc.code, "message": error_text(exc, ctx.lang())}}),
                status=exc.status if 400 <= exc.status < 500 else 502,
                mimetype="application/json",
            )  # fmt: skip
        name = f"test-connexion-{centre or 'national'}.csv"
        return Response(
            body,
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
