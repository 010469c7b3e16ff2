"""The incident report page (procès-verbal material) and its CSV / printable exports."""

from __future__ import annotations

import time
from typing import Any

import dash_ag_grid as dag
import flask
from dash import html
from werkzeug.wrappers import Response

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.pages.common import GRID_COLS, GRID_FIT, GRID_LOCALE, error_text
from supervision_dashboard.report import (
    COLUMNS,
    SECTION_TITLES,
    SECTIONS,
    SUMMARY,
    Report,
    build_report,
    header,
    to_csv,
    to_html,
)
from vigie.jury_client import JuryApiError


def make_report(ctx: AppContext, session: JurySession, centre: str | None) -> Report:
    """Server material for the scope plus the feed's per-centre figures (raises JuryApiError)."""
    if session.scope is not None:
        centre = session.scope  # a centre juror's report is their centre's, whatever is asked
    answer = ctx.client_for(session).incidents(centre)
    feed = ctx.feed_for(session)
    with feed.lock:
        rows = list(feed.state.rows.values())
    return build_report(answer, rows, centre, time.time(), session.lang)


def _grid(items: list[dict[str, str]], cols: tuple[str, ...], grid_id: str, lang: str) -> Any:
    if not items:
        return html.P(t("empty", lang), className="muted", id=f"{grid_id}-empty")
    return dag.AgGrid(
        id=grid_id,
        rowData=items,
        columnDefs=[{"field": c, "headerName": header(c, lang)} for c in cols],
        defaultColDef=GRID_COLS,
        **GRID_FIT,
        style={"height": "260px"},
        dashGridOptions={"localeText": GRID_LOCALE.get(lang, {})},
    )


def layout(ctx: AppContext, session: JurySession, centre: str | None) -> Any:
    lang = session.lang
    try:
        report = make_report(ctx, session, centre)
    except JuryApiError as exc:
        return html.Div(error_text(exc, lang), className="error", id="report-error")
    query = f"?centre={report.centre}" if report.centre else ""
    parts: list[Any] = [
        html.H2(f"{t('report_title', lang)} — {report.centre or t('national', lang)}"),
        html.P(
            [
                html.A(t("export_csv", lang), href=f"/report.csv{query}", id="export-csv"),
                " · ",
                html.A(t("print_html", lang), href=f"/report.html{query}", target="_blank"),
            ]
        ),
        html.H4(t("pv_summary", lang)),
        _grid(report.per_centre, SUMMARY, "report-centres", lang),
    ]
    for name in SECTIONS:
        parts += [
            html.H4(t(SECTION_TITLES[name], lang)),
            _grid(report.sections.get(name) or [], COLUMNS[name], f"report-{name}", lang),
        ]
    return html.Div(parts)


def install_exports(server: flask.Flask, ctx: AppContext) -> None:
    def _report() -> Report | Response:
        session = ctx.session()
        if session is None:
            return flask.redirect("/login")
        try:
            return make_report(ctx, session, flask.request.args.get("centre") or None)
        except JuryApiError as exc:
            return Response(
                flask.json.dumps(
                    {"error": {"code": exc.code, "message": error_text(exc, ctx.lang())}}
                ),
                status=exc.status if 400 <= exc.status < 500 else 502,
                mimetype="application/json",
            )

    @server.route("/report.csv")
    def _csv() -> Response:
        report = _report()
        if isinstance(report, Response):
            return report
        name = f"proces-verbal-{report.centre or 'national'}.csv"
        return Response(
            to_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @server.route("/report.html")
    def _html() -> Response:
        report = _report()
        if isinstance(report, Response):
            return report
        return Response(to_html(report), mimetype="text/html")
