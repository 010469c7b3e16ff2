"""The results page (national jury): marks, the question analysis, and neutralisation.

Everything comes from the exam server's results API (the same correction as `vigie
correct`), with the juror's own token; the documents to sign are the server's bytes,
passed through. A correction costs seconds at 12,000 candidates, so the page computes
on opening, on « Recalculer » and after a decision, never on the refresh tick.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import flask
from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate
from werkzeug.wrappers import Response

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.pages import replace
from supervision_dashboard.pages.common import GRID_COLS, GRID_LOCALE, error_text
from vigie.correction.report import RANKING, RECAP
from vigie.jury_client import JuryApiError
from vigie.protocol import JuryRole

DOCUMENTS = {
    f"{RANKING}.html": "doc_ranking_html",
    f"{RANKING}.csv": "doc_ranking_csv",
    f"{RECAP}.html": "doc_recap_html",
    f"{RECAP}.csv": "doc_recap_csv",
}
COLUMNS = {  # grid field -> i18n key of its header
    "question_id": "col_question_id", "unit_id": "col_unit", "format": "col_format",
    "rank": "col_rank", "weight": "col_weight", "answered": "col_answered",
    "success": "col_success", "discrimination": "col_discrimination", "flags": "col_flags",
}  # fmt: skip


def _national(session: JurySession | None) -> bool:
    return session is not None and session.identity.role == JuryRole.NATIONAL


def layout(ctx: AppContext, session: JurySession) -> Any:
    lang = session.lang
    if not _national(session):
        return html.Div(t("results_national_only", lang), className="error", id="results-refused")
    docs: list[Any] = []
    for name, key in DOCUMENTS.items():
        docs += [html.A(t(key, lang), href=f"/results-doc/{name}", target="_blank"), " · "]
    columns: list[dict[str, Any]] = [
        {"field": c, "headerName": t(key, lang)} for c, key in COLUMNS.items()
    ]
    columns[0].update(pinned="left", checkboxSelection=True)
    return html.Div(
        [
            html.H2(t("results_title", lang)),
            html.P(
                [
                    html.B(t("results_docs", lang) + " : "),
                    *docs[:-1],
                    " ",
                    html.Button(t("results_refresh", lang), id="results-refresh", n_clicks=0),
                ],
                id="results-docs",
            ),
            html.Div(id="results-summary"),
            html.H4(t("results_marks", lang)),
            dcc.Graph(id="results-marks", figure={"data": [], "layout": {"height": 280}}),
            html.Div(id="results-unit-stats", className="muted"),
            html.H4(t("results_questions", lang)),
            html.P(id="results-look"),
            dag.AgGrid(
                id="results-questions",
                rowData=[],
                columnDefs=columns,
                defaultColDef=GRID_COLS,
                getRowId="params.data.question_id",
                style={"height": "360px"},
                dashGridOptions={
                    "rowSelection": "single",
                    "localeText": GRID_LOCALE.get(lang, {}),
                    "rowClassRules": {"row-flagged": "params.data.flags !== ''"},
                },
            ),
            html.P(t("results_hint", lang), className="muted"),
            html.Label(
                [t("reason", lang), dcc.Input(id="results-reason", type="text", maxLength=500)]
            ),
            html.Button(t("results_neutralise", lang), id="results-neutralise", n_clicks=0),
            dcc.ConfirmDialog(id="results-confirm"),
            html.Div(id="results-msg", className="result"),
            replace.block(session),
            dcc.Store(id="results-version", data=0),
        ],
        className="results",
    )


def summary(results: dict[str, Any], lang: str) -> list[Any]:
    rules = results.get("rules") or {}
    line = t(
        "results_summary", lang, rules=rules.get("name", "?"), version=rules.get("version", "?"),
        candidates=results.get("candidates", 0), ranked=results.get("ranked", 0),
        seconds=f"{float(results.get('correction_seconds') or 0):.1f}",
    )  # fmt: skip
    decisions: list[Any] = []
    for d in results.get("decisions") or []:
        if d.get("kind") == "neutralise":
            text = t("results_decision", lang, question=d.get("question_id"), actor=d.get("actor"), reason=d.get("reason"))  # fmt: skip
        else:
            text = t("results_replacement", lang, unit=d.get("unit_id"), backup=d.get("backup_id"), actor=d.get("actor"), reason=d.get("reason"))  # fmt: skip
        decisions.append(html.Li(text))
    return [
        html.P(line, id="results-line"),
        html.Ul(decisions, id="results-decisions")
        if decisions
        else html.P(t("results_no_decision", lang), className="muted", id="results-decisions"),
    ]


def marks_figure(analysis: dict[str, Any], lang: str) -> dict[str, Any]:
    """One bar series per unit: how many candidates in each one-point band of the mark /20."""
    traces = []
    for unit in analysis.get("units") or []:
        bins = unit.get("bins") or []
        traces.append(
            {
                "type": "bar",
                "name": unit["unit_id"],
                "x": [f"{b['from']}–{b['to']}" for b in bins],
                "y": [b["count"] for b in bins],
                "hovertemplate": "%{x} : %{y}<extra>" + unit["unit_id"] + "</extra>",
            }
        )
    return {
        "data": traces,
        "layout": {
            "height": 280, "barmode": "group", "margin": {"l": 40, "r": 10, "t": 10, "b": 40},
            "xaxis": {"title": {"text": t("results_marks", lang)}}, "legend": {"orientation": "h"},
        },
    }  # fmt: skip


def question_rows(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """The questions to look at first, then the least discriminating."""
    rows = [
        {
            "question_id": q["question_id"],
            "unit_id": q["unit_id"],
            "format": q["format"],
            "rank": q["rank"],
            "weight": q["weight"],
            "answered": f"{q['answered']}/{q['present']}",
            "success": round(100 * float(q["success"]), 1),
            "discrimination": round(float(q["discrimination"]), 2),
            "flags": ", ".join(q.get("flags") or []),
        }
        for q in analysis.get("questions") or []
    ]
    rows.sort(key=lambda r: (r["flags"] == "", r["discrimination"], r["question_id"]))
    return rows


def look_text(analysis: dict[str, Any], lang: str) -> str:
    ids = analysis.get("to_look_at") or []
    if not ids:
        return t("results_look_none", lang)
    shown = ", ".join(ids[:12]) + (" …" if len(ids) > 12 else "")
    return t("results_look", lang, n=len(ids), ids=shown)


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("results-summary", "children"),
        Output("results-marks", "figure"),
        Output("results-unit-stats", "children"),
        Output("results-questions", "rowData"),
        Output("results-look", "children"),
        Input("results-version", "data"),
        Input("results-refresh", "n_clicks"),
    )
    def fill(_version: int, _n: int) -> tuple[Any, Any, Any, Any, Any]:
        session = ctx.session()
        if not _national(session):
            raise PreventUpdate
        assert session is not None
        lang = session.lang
        client = ctx.client_for(session)
        try:
            results, analysis = client.results(), client.results_questions()
        except JuryApiError as exc:
            error = html.P(error_text(exc, lang), className="error", id="results-error")
            return error, {"data": [], "layout": {"height": 280}}, "", [], ""
        stats = [
            html.Div(
                t(
                    "results_unit_stats",
                    lang,
                    unit=u["unit_id"],
                    present=u["present"],
                    mean=u["mean"],
                    sd=u["sd"],
                )
            )
            for u in analysis.get("units") or []
        ]
        return (
            summary(results, lang),
            marks_figure(analysis, lang),
            stats,
            question_rows(analysis),
            look_text(analysis, lang),
        )

    @app.callback(
        Output("results-confirm", "message"),
        Output("results-confirm", "displayed"),
        Output("results-msg", "children"),
        Input("results-neutralise", "n_clicks"),
        State("results-questions", "selectedRows"),
        State("results-reason", "value"),
        prevent_initial_call=True,
    )
    def ask(n: int, selected: list[dict[str, Any]] | None, reason: str | None) -> tuple[Any, Any, Any]:  # fmt: skip
        session = ctx.session()
        if not n or not _national(session):
            raise PreventUpdate
        assert session is not None
        lang = session.lang
        problem = _problem(selected, reason, lang)
        if problem:
            return no_update, False, html.Span(problem, className="error")
        assert selected is not None
        question = selected[0]["question_id"]
        return t("results_confirm", lang, question=question, reason=(reason or "").strip()), True, ""  # fmt: skip

    @app.callback(
        Output("results-msg", "children", allow_duplicate=True),
        Output("results-version", "data"),
        Output("results-reason", "value"),
        Input("results-confirm", "submit_n_clicks"),
        State("results-questions", "selectedRows"),
        State("results-reason", "value"),
        State("results-version", "data"),
        prevent_initial_call=True,
    )
    def confirmed(
        n: int | None, selected: list[dict[str, Any]] | None, reason: str | None, version: int
    ) -> tuple[Any, Any, Any]:
        session = ctx.session()
        if not n or not _national(session):
            raise PreventUpdate
        assert session is not None
        lang = session.lang
        problem = _problem(selected, reason, lang)
        if problem:
            return html.Span(problem, className="error"), no_update, no_update
        assert selected is not None
        question = str(selected[0]["question_id"])
        try:
            ctx.client_for(session).neutralise(question, (reason or "").strip())
        except JuryApiError as exc:
            return html.Span(error_text(exc, lang), className="error"), no_update, no_update
        done = html.Span(t("results_done", lang, question=question), id="results-done")
        return done, (version or 0) + 1, ""


def _problem(selected: list[dict[str, Any]] | None, reason: str | None, lang: str) -> str | None:
    if not selected:
        return t("results_choose", lang)
    if not (reason or "").strip():
        return t("reason_required", lang)
    return None


def install_documents(server: flask.Flask, ctx: AppContext) -> None:
    """The documents to sign, from the server as they are (national jury only)."""

    @server.route("/results-doc/<name>")
    def _document(name: str) -> Response:
        session = ctx.session()
        if session is None:
            return flask.redirect("/login")  # type: ignore[return-value]
        if not _national(session) or name not in DOCUMENTS:
            return Response(t("results_national_only", session.lang), status=403 if name in DOCUMENTS else 404)  # fmt: skip
        try:
            body, mime = ctx.client_for(session).results_document(name)
        except JuryApiError as exc:
            status = exc.status if 400 <= exc.status < 500 else 502
            return Response(error_text(exc, session.lang), status=status, mimetype="text/plain")
        disposition = "attachment" if name.endswith(".csv") else "inline"
        return Response(body, mimetype=mime.split(";")[0], headers={"Content-Disposition": f'{disposition}; filename="{name}"'})  # fmt: skip
