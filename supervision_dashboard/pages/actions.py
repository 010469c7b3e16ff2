"""Jury actions: each behind a confirmation and a mandatory reason, sent with the juror's token.

The server records who did what (the token names the juror) and refuses what a role
may not do; the dashboard only renders the controls a role may use, so a centre
juror never sees a button that would be refused.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.jury_client import JuryApiError
from supervision_dashboard.pages.common import error_text

CENTRE_ACTIONS = ("extra_centre", "pause", "resume", "message_centre")
CANDIDATE_ACTIONS = ("extra_candidate", "message_candidate")
_LABEL = {
    "extra_candidate": "act_extra_candidate",
    "extra_centre": "act_extra_centre",
    "pause": "act_pause",
    "resume": "act_resume",
    "message_centre": "act_message",
    "message_candidate": "act_message",
}
_NEEDS_SECONDS = {"extra_candidate", "extra_centre"}
_NEEDS_TEXT = {"message_centre", "message_candidate"}


def panel(
    session: JurySession,
    kinds: tuple[str, ...],
    target: dict[str, str],
    proposed_s: float = 0.0,
) -> Any:
    """The actions box, or nothing when this juror may not act on the target."""
    if not session.may_act_on(target.get("centre")):
        return html.Div()
    lang = session.lang
    proposed = round(proposed_s)
    return html.Div(
        [
            html.H4(t("actions", lang)),
            dcc.Store(id="act-target", data=target),
            dcc.Dropdown(
                id="act-kind",
                options=[{"label": t(_LABEL[k], lang), "value": k} for k in kinds],
                value=kinds[0],
                clearable=False,
            ),
            html.Label(
                [
                    t("seconds", lang),
                    dcc.Input(id="act-seconds", type="number", min=1, value=proposed or None),
                ]
            ),
            html.Div(t("proposed_extra", lang, s=proposed), className="muted")
            if proposed
            else None,
            html.Label(
                [t("message_text", lang), dcc.Input(id="act-text", type="text", maxLength=500)]
            ),
            html.Label([t("reason", lang), dcc.Input(id="act-reason", type="text", maxLength=500)]),
            html.Button(t("submit", lang), id="act-submit", n_clicks=0),
            dcc.ConfirmDialog(id="act-confirm"),
            html.Div(id="act-result", className="result"),
        ],
        className="actions",
    )


def _validate(
    kind: str, seconds: Any, text: str | None, reason: str | None, lang: str
) -> str | None:
    if not (reason or "").strip():
        return t("reason_required", lang)
    if kind in _NEEDS_SECONDS and (not isinstance(seconds, int | float) or seconds <= 0):
        return t("seconds_required", lang)
    if kind in _NEEDS_TEXT and not (text or "").strip():
        return t("text_required", lang)
    return None


def execute(
    ctx: AppContext,
    session: JurySession,
    kind: str,
    target: dict[str, str],
    seconds: float | None,
    text: str | None,
    reason: str,
) -> None:
    """Send one action to the server with the juror's own token (raises JuryApiError)."""
    client = ctx.client_for(session)
    centre, cid = target.get("centre"), target.get("candidate_id")
    if kind in _NEEDS_SECONDS:
        unit = ctx.feed_for(session).state.unit_id
        if unit is None:
            raise JuryApiError(409, "unit_not_launched", t("no_unit", session.lang))
        who = {"candidate_id": cid} if kind == "extra_candidate" else {"centre": centre}
        client.extra_time(unit, float(seconds or 0), reason, **who)
    elif kind == "pause" and centre:
        client.pause_centre(centre, reason)
    elif kind == "resume" and centre:
        client.resume_centre(centre, reason)
    elif kind == "message_centre" and centre:
        client.message(text or "", reason, centre=centre)
    elif kind == "message_candidate" and cid:
        client.message(text or "", reason, candidate_id=cid)
    else:
        raise JuryApiError(422, "invalid_request", kind)


def trusted_target(ctx: AppContext, session: JurySession, target: dict[str, str]) -> dict[str, str]:
    """The target with its centre taken from the feed, not from the browser's store."""
    cid = target.get("candidate_id")
    if not cid:
        return {"centre": str(target.get("centre", ""))}
    feed = ctx.feed_for(session)
    with feed.lock:
        row = feed.state.rows.get(cid)
    return {"candidate_id": cid, "centre": str(row.get("centre")) if row else ""}


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("act-confirm", "message"),
        Output("act-confirm", "displayed"),
        Output("act-result", "children"),
        Input("act-submit", "n_clicks"),
        State("act-kind", "value"),
        State("act-seconds", "value"),
        State("act-text", "value"),
        State("act-reason", "value"),
        State("act-target", "data"),
        prevent_initial_call=True,
    )
    def ask(
        n: int,
        kind: str,
        seconds: Any,
        text: str | None,
        reason: str | None,
        target: dict[str, str],
    ) -> tuple[Any, Any, Any]:
        session = ctx.session()
        if session is None or not n:
            raise PreventUpdate
        lang = session.lang
        error = _validate(kind, seconds, text, reason, lang)
        if error:
            return no_update, False, html.Span(error, className="error")
        what = t(_LABEL.get(kind, kind), lang) + (
            f" {seconds:g} s" if kind in _NEEDS_SECONDS else ""
        )
        label = target.get("candidate_id") or target.get("centre") or ""
        return t("confirm", lang, what=what, target=label, reason=(reason or "").strip()), True, ""

    @app.callback(
        Output("act-result", "children", allow_duplicate=True),
        Input("act-confirm", "submit_n_clicks"),
        State("act-kind", "value"),
        State("act-seconds", "value"),
        State("act-text", "value"),
        State("act-reason", "value"),
        State("act-target", "data"),
        prevent_initial_call=True,
    )
    def confirmed(
        n: int | None,
        kind: str,
        seconds: Any,
        text: str | None,
        reason: str | None,
        target: dict[str, str],
    ) -> Any:
        session = ctx.session()
        if session is None or not n:
            raise PreventUpdate
        lang = session.lang
        error = _validate(kind, seconds, text, reason, lang)
        if error:
            return html.Span(error, className="error")
        target = trusted_target(ctx, session, target)
        if not session.may_act_on(target.get("centre")):
            return html.Span(t("forbidden", lang), className="error")
        try:
            execute(ctx, session, kind, target, seconds, text, (reason or "").strip())
        except JuryApiError as exc:
            return html.Span(error_text(exc, lang), className="error")
        return html.Span(
            t("done", lang, what=t(_LABEL.get(kind, kind), lang)), className="ok", id="act-done"
        )
