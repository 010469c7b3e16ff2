"""On the results page: the national jury cancels a unit and counts a backup unit instead.

The decision is final on the server (once per unit, audited in the juror's name), so
the confirmation names both units and what each will count for; the results are then
computed again (sealed until the backup unit is closed, which the page says). The role
is checked in every callback, not only by hiding the block: a forged Dash request from
a centre juror or an observer never reaches the exam server.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.pages.common import error_text
from supervision_dashboard.pages.units import is_national, state_text
from supervision_dashboard.units import UnitStatus
from vigie.demo import BACKUP_UNITS
from vigie.jury_client import JuryApiError


def block(session: JurySession) -> Any:
    lang = session.lang
    return html.Div(
        [
            html.H4(t("replace_title", lang)),
            html.Div(id="replace-known", className="muted"),
            html.Label([t("replace_cancelled", lang), _dropdown("replace-unit", lang)]),
            html.Label([t("replace_backup", lang), _dropdown("replace-backup", lang)]),
            html.Label(
                [t("reason", lang), dcc.Input(id="replace-reason", type="text", maxLength=500)]
            ),
            html.Button(t("replace_button", lang), id="replace-submit", n_clicks=0),
            dcc.ConfirmDialog(id="replace-confirm"),
            html.Div(id="replace-msg", className="result"),
            dcc.Store(id="replace-version", data=0),
        ],
        id="replace-panel",
        className="actions replace",
    )


def _dropdown(ident: str, lang: str) -> Any:
    # A handful of units: no search box (Dash's own « Search » would be the one English word).
    return dcc.Dropdown(id=ident, options=[], searchable=False, placeholder=t("replace_pick", lang))


def _option(u: UnitStatus, lang: str) -> dict[str, str]:
    label = t("unit_option", lang, unit=u.id, title=u.ref.title, state=state_text(u, lang))
    return {"label": label, "value": u.id}


def choices(units: list[UnitStatus], lang: str) -> tuple[list[Any], list[Any]]:
    """Units that may be cancelled (sat or being sat), and those that may stand in for one;
    a unit already part of a replacement is neither (the server allows one per unit)."""
    free = [u for u in units if not u.in_replacement]
    cancellable = [_option(u, lang) for u in free if u.launched_at is not None]
    # The session's backup units first: what they were written for (any unit may serve).
    stand_ins = sorted(free, key=lambda u: u.id not in BACKUP_UNITS)
    return cancellable, [_option(u, lang) for u in stand_ins]


def known(units: list[UnitStatus], lang: str) -> list[Any]:
    return [
        html.Div(t("replace_known", lang, unit=u.id, backup=u.replaced_by), id=f"replaced-{u.id}")
        for u in units
        if u.replaced_by
    ]


def problem(unit: str | None, backup: str | None, reason: str | None, lang: str) -> str | None:
    if not unit or not backup:
        return t("replace_choose", lang)
    if unit == backup:
        return t("replace_same", lang)
    if not (reason or "").strip():
        return t("reason_required", lang)
    return None


def confirmation(units: list[UnitStatus], unit: str, backup: str, reason: str, lang: str) -> str:
    titles = {u.id: u.ref.title for u in units}
    return t(
        "replace_confirm", lang, unit=unit, title=titles.get(unit, unit), backup=backup,
        btitle=titles.get(backup, backup), reason=reason,
    )  # fmt: skip


def _closed(ctx: AppContext, session: JurySession, unit: str) -> bool:
    try:
        units = ctx.units.read(ctx.client_for(session))
    except JuryApiError:
        return True  # unknown: say nothing rather than something wrong
    return any(u.id == unit and u.closed_at is not None for u in units)


def _error(text: str) -> Any:
    return html.Span(text, className="error")


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("replace-unit", "options"),
        Output("replace-backup", "options"),
        Output("replace-known", "children"),
        Input("results-version", "data"),
        Input("replace-version", "data"),
    )
    def fill(_v: int | None, _r: int | None) -> tuple[Any, Any, Any]:
        session = ctx.session()
        if not is_national(session):
            raise PreventUpdate
        lang = session.lang
        try:
            units = ctx.units.read(ctx.client_for(session), with_results=True)
        except JuryApiError as exc:
            return [], [], _error(t("units_unreadable", lang, why=error_text(exc, lang)))
        cancellable, backups = choices(units, lang)
        return cancellable, backups, known(units, lang)

    @app.callback(
        Output("replace-confirm", "message"),
        Output("replace-confirm", "displayed"),
        Output("replace-msg", "children"),
        Input("replace-submit", "n_clicks"),
        State("replace-unit", "value"),
        State("replace-backup", "value"),
        State("replace-reason", "value"),
        prevent_initial_call=True,
    )
    def ask(n: int, unit: str | None, backup: str | None, reason: str | None) -> tuple[Any, Any, Any]:  # fmt: skip
        session = ctx.session()
        if not n or not is_national(session):
            raise PreventUpdate
        lang = session.lang
        wrong = problem(unit, backup, reason, lang)
        if wrong or unit is None or backup is None:
            return no_update, False, _error(wrong or "")
        try:
            units = ctx.units.read(ctx.client_for(session))
        except JuryApiError as exc:
            return no_update, False, _error(error_text(exc, lang))
        return confirmation(units, unit, backup, (reason or "").strip(), lang), True, ""

    @app.callback(
        Output("replace-msg", "children", allow_duplicate=True),
        Output("replace-reason", "value"),
        Output("replace-version", "data"),
        Output("results-version", "data", allow_duplicate=True),
        Input("replace-confirm", "submit_n_clicks"),
        State("replace-unit", "value"),
        State("replace-backup", "value"),
        State("replace-reason", "value"),
        State("replace-version", "data"),
        State("results-version", "data"),
        prevent_initial_call=True,
    )
    def confirmed(
        n: int | None,
        unit: str | None,
        backup: str | None,
        reason: str | None,
        version: int | None,
        results_version: int | None,
    ) -> tuple[Any, Any, Any, Any]:
        session = ctx.session()
        if session is None or not n:
            raise PreventUpdate
        lang = session.lang
        if not is_national(session):  # a forged request: refused here, never sent on
            refused = html.Span(t("units_national_only", lang), className="error", id="replace-refused")  # fmt: skip
            return refused, no_update, no_update, no_update
        wrong = problem(unit, backup, reason, lang)
        if wrong or unit is None or backup is None:
            return _error(wrong or ""), no_update, no_update, no_update
        try:
            answer = ctx.client_for(session).replace_unit(unit, backup, (reason or "").strip())
        except JuryApiError as exc:
            return _error(error_text(exc, lang)), no_update, (version or 0) + 1, no_update
        ctx.units.replaced(unit, backup)
        actor = answer.get("actor") if isinstance(answer, dict) else None
        # The server names jurors « jury:<username> »: the juror reads the name.
        actor = str(actor).removeprefix("jury:") if actor else None
        text = t("replace_done", lang, unit=unit, backup=backup, actor=actor or session.identity.username)  # fmt: skip
        if not _closed(ctx, session, backup):
            # Otherwise the results' « sealed » a moment later reads like a failed decision.
            text += " " + t("replace_wait", lang, backup=backup)
        done = html.Span(text, className="ok", id="replace-done")
        # The results are computed again with the decision; the reason is emptied.
        return done, "", (version or 0) + 1, (results_version or 0) + 1
