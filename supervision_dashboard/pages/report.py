"""The incident report page (procès-verbal material) and its CSV / printable exports."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

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
    heading,
    to_csv,
    to_html,
)
from supervision_dashboard.report_pdf import to_pdf
from vigie.jury_client import JuryApiError


def make_report(
    ctx: AppContext, session: JurySession, centre: str | None, unit: str | None = None
) -> Report:
    """Server material for the scope plus the feed's per-centre figures (raises JuryApiError);
    ``unit``: that unit's procès-verbal, else the whole day's."""
    if session.scope is not None:
        centre = session.scope  # a centre juror's report is their centre's, whatever is asked
    answer = ctx.client_for(session).incidents(centre)
    feed = ctx.feed_for(session)
    with feed.lock:
        rows = list(feed.state.rows.values())
    return build_report(answer, rows, centre, time.time(), session.lang, unit)


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


def _exports(centre: str | None, unit: str | None, lang: str, prefix: str) -> list[Any]:
    query = urlencode({k: v for k, v in (("centre", centre), ("unit", unit)) if v})
    q = f"?{query}" if query else ""
    return [
        html.A(t("export_csv", lang), href=f"/report.csv{q}", id=f"{prefix}-csv"),
        " · ",
        html.A(
            t("print_html", lang), href=f"/report.html{q}", target="_blank", id=f"{prefix}-html"
        ),
        " · ",
        html.A(t("export_pdf", lang), href=f"/report.pdf{q}", id=f"{prefix}-pdf"),
    ]


def layout(ctx: AppContext, session: JurySession, centre: str | None) -> Any:
    lang = session.lang
    try:
        report = make_report(ctx, session, centre)
    except JuryApiError as exc:
        return html.Div(error_text(exc, lang), className="error", id="report-error")
    title, lines = heading(report, lang)
    parts: list[Any] = [
        html.H2(title),
        *(html.P(line, className="muted") for line in lines),
        html.P(_exports(report.centre, None, lang, "export")),
    ]
    if report.units:
        parts.append(
            html.Ul(
                [
                    html.Li(
                        [
                            f"{t('pv_unit_id', lang)} {u} : ",
                            *_exports(report.centre, u, lang, f"export-{u}"),
                        ]
                    )
                    for u in report.units
                ],
                id="report-units",
            )
        )
    parts += [
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
            args = flask.request.args
            return make_report(ctx, session, args.get("centre") or None, args.get("unit") or None)
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
        return Response(
            to_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{report.name}.csv"'},
        )

    @server.route("/report.pdf")
    def _pdf() -> Response:
        report = _report()
        if isinstance(report, Response):
            return report
        return Response(
            to_pdf(report),
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{report.name}.pdf"'},
        )

    @server.route("/report.html")
    def _html() -> Response:
        report = _report()
        if isinstance(report, Response):
            return report
        return Response(to_html(report), mimetype="text/html")
