"""Jury actions: each behind a confirmation and a mandatory reason, sent with the juror's token.

The server records who did what (the token names the juror) and refuses what a role
may not do; the dashboard only renders the controls a role may use, so a centre
juror never sees a button that would be refused. The panel offers only what makes
sense now (no « Suspendre » for a paused centre), shows only the fields of the
chosen action, counts extra time in minutes (as jurors do), and empties itself
after an action so that a second click does not grant twice. Incident time (each
candidate's time disconnected, proposed by the server) is granted for a whole centre
in one action; the server grants only what was not granted yet. A candidate's own
pause, resume and end of time are in :mod:`.candidate_actions`; a reason may carry a
category (environment, candidate, staff, technical), sent with the action.
"""

from __future__ import annotations

import math
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.pages import candidate_actions as cand
from supervision_dashboard.pages.common import error_text
from supervision_dashboard.pages.incident_actions import incident_summary as incident_summary
from supervision_dashboard.pages.incident_actions import register_incident
from supervision_dashboard.rows import duration
from vigie.jury_client import JuryApiError

CENTRE_ACTIONS = ("extra_centre", "incident_centre", "pause", "resume", "message_centre")
CANDIDATE_ACTIONS = ("extra_candidate", *cand.CANDIDATE_KINDS, "message_candidate")
_LABEL = {
    "extra_candidate": "act_extra_candidate",
    "extra_centre": "act_extra_centre",
    "incident_centre": "act_incident_centre",
    "pause": "act_pause",
    "resume": "act_resume",
    "message_centre": "act_message",
    "message_candidate": "act_message_candidate",
    "pause_candidate": "act_pause_candidate",
    "resume_candidate": "act_resume_candidate",
    "end_candidate": "act_end_candidate",
}
_NEEDS_MINUTES = {"extra_candidate", "extra_centre"}
_NEEDS_TEXT = {"message_centre", "message_candidate"}
_INCIDENT = {"incident_centre"}
_UNCATEGORISED = _INCIDENT  # the server's incident-time grant takes no category
_HIDDEN = {"display": "none"}
_SHOWN: dict[str, str] = {}


def available(kinds: tuple[str, ...], paused: bool) -> list[str]:
    """The actions that make sense now: pause a running centre, resume a paused one."""
    return [
        k for k in kinds if not (k == "pause" and paused) and not (k == "resume" and not paused)
    ]


def proposed_minutes(disconnected_s: float) -> int:
    """Time lost, counted from the last heartbeat heard, rounded up to the minute."""
    return math.ceil(disconnected_s / 60) if disconnected_s > 0 else 0


def _options(kinds: list[str], lang: str) -> list[dict[str, str]]:
    return [{"label": t(_LABEL[k], lang), "value": k} for k in kinds]


def panel(
    session: JurySession,
    kinds: tuple[str, ...],
    target: dict[str, str],
    proposed_s: float = 0.0,
    paused: bool = False,
    incident: str = "",
    offered: list[str] | None = None,
    note: str = "",
) -> Any:
    """The actions box, or nothing when this juror may not act on the target; ``offered``
    (a candidate's) replaces the centre's pause rule."""
    if not session.may_act_on(target.get("centre")):
        return html.Div()
    lang = session.lang
    now = available(kinds, paused) if offered is None else offered
    minutes = proposed_minutes(proposed_s)
    first = now[0] if now else None
    return html.Div(
        [
            html.H4(t("actions", lang)),
            dcc.Store(id="act-target", data=target),
            dcc.Store(id="act-kinds", data=list(kinds)),
            dcc.Interval(id="act-tick", interval=2000),
            # A handful of actions: no search box (Dash 4 labels it « Search », in English).
            dcc.Dropdown(
                id="act-kind",
                options=_options(now, lang),
                value=first,
                clearable=False,
                searchable=False,
            ),
            html.Div(note, id="act-note", className="muted"),
            html.Div(
                [
                    html.Label(
                        [
                            t("minutes", lang),
                            dcc.Input(
                                id="act-minutes",
                                type="number",
                                min=1,
                                step=1,
                                value=minutes or None,
                            ),
                        ]
                    ),
                    html.Div(
                        t("proposed_extra", lang, m=minutes, d=duration(proposed_s, lang)),
                        className="muted",
                        id="act-proposed",
                    )
                    if minutes
                    else None,
                ],
                id="act-minutes-box",
                style=_SHOWN if first in _NEEDS_MINUTES else _HIDDEN,
            ),
            html.Div(
                html.Div(incident, id="act-incident-summary", className="muted"),
                id="act-incident-box",
                style=_SHOWN if first in _INCIDENT else _HIDDEN,
            ),
            html.Div(
                html.Label(
                    [t("message_text", lang), dcc.Input(id="act-text", type="text", maxLength=500)]
                ),
                id="act-text-box",
                style=_SHOWN if first in _NEEDS_TEXT else _HIDDEN,
            ),
            html.Label([t("reason", lang), dcc.Input(id="act-reason", type="text", maxLength=500)]),
            cand.category_box(lang, shown=first not in _UNCATEGORISED),
            html.Button(t("submit", lang), id="act-submit", n_clicks=0),
            dcc.ConfirmDialog(id="act-confirm"),
            html.Div(id="act-result", className="result"),
        ],
        className="actions",
    )


def _validate(
    kind: str | None,
    minutes: Any,
    text: str | None,
    reason: str | None,
    lang: str,
    category: str | None = None,
) -> str | None:
    if not kind:
        return t("choose_action", lang)
    if category is not None and category not in cand.CATEGORIES:
        return t("category_invalid", lang)
    if not (reason or "").strip():
        return t("reason_required", lang)
    if kind in _NEEDS_MINUTES and (not isinstance(minutes, int | float) or minutes <= 0):
        return t("minutes_required", lang)
    if kind in _NEEDS_TEXT and not (text or "").strip():
        return t("text_required", lang)
    return None


def _what(kind: str, minutes: Any, lang: str) -> str:
    label = t(_LABEL.get(kind, kind), lang)
    return label + (f" : {minutes:g} min" if kind in _NEEDS_MINUTES else "")


def _motive(reason: str, category: str | None, kind: str, lang: str) -> str:
    """The reason as the confirmation repeats it, with its category when one was chosen."""
    if category is None or kind in _UNCATEGORISED:
        return reason
    return f"{reason} ({t(f'cat_{category}', lang)})"


def execute(
    ctx: AppContext,
    session: JurySession,
    kind: str,
    target: dict[str, str],
    minutes: float | None,
    text: str | None,
    reason: str,
    category: str | None = None,
) -> Any:
    """Send one action to the server with the juror's own token (raises JuryApiError);
    the server's answer."""
    client = ctx.client_for(session)
    centre, cid = target.get("centre"), target.get("candidate_id")
    cat = {"category": category} if category is not None else {}
    if kind in cand.CANDIDATE_KINDS and cid:
        return cand.execute(client, kind, cid, reason, category)
    if kind in _NEEDS_MINUTES:
        unit = ctx.feed_for(session).state.unit_id
        if unit is None:
            raise JuryApiError(409, "unit_not_launched", t("no_unit", session.lang))
        who = {"candidate_id": cid} if kind == "extra_candidate" else {"centre": centre}
        return client.extra_time(unit, 60.0 * float(minutes or 0), reason, **who, **cat)
    if kind == "incident_centre" and centre:
        return client.grant_incident_time(reason, centre=centre)
    if kind == "pause" and centre:
        return client.pause_centre(centre, reason, category)
    if kind == "resume" and centre:
        return client.resume_centre(centre, reason, category)
    if kind == "message_centre" and centre:
        return client.message(text or "", reason, centre=centre, **cat)
    if kind == "message_candidate" and cid:
        return client.message(text or "", reason, candidate_id=cid, **cat)
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


def centre_paused(ctx: AppContext, session: JurySession, centre: str | None) -> bool:
    feed = ctx.feed_for(session)
    with feed.lock:
        return cand.centre_paused(feed.state.rows.values(), centre)


def register(app: Dash, ctx: AppContext) -> None:
    register_incident(app, ctx)
    _register_follow(app, ctx)
    _register_act(app, ctx)


def _register_follow(app: Dash, ctx: AppContext) -> None:

    @app.callback(
        Output("act-minutes-box", "style"),
        Output("act-text-box", "style"),
        Output("act-incident-box", "style"),
        Output("act-category-box", "style"),
        Input("act-kind", "value"),
    )
    def fields(kind: str | None) -> tuple[dict[str, str], ...]:
        return (
            _SHOWN if kind in _NEEDS_MINUTES else _HIDDEN,
            _SHOWN if kind in _NEEDS_TEXT else _HIDDEN,
            _SHOWN if kind in _INCIDENT else _HIDDEN,
            _HIDDEN if kind in _UNCATEGORISED else _SHOWN,
        )

    @app.callback(
        Output("act-kind", "options"),
        Output("act-kind", "value"),
        Output("act-note", "children"),
        Input("act-tick", "n_intervals"),
        State("act-kinds", "data"),
        State("act-target", "data"),
        State("act-kind", "options"),
        State("act-kind", "value"),
        State("act-note", "children"),
        prevent_initial_call=True,
    )
    def follow_pause(
        _n: int | None,
        kinds: list[str] | None,
        target: dict[str, str] | None,
        shown: list[dict[str, str]] | None,
        value: str | None,
        said: Any,
    ) -> tuple[Any, Any, Any]:
        session = ctx.session()
        if session is None or not kinds or not target:
            raise PreventUpdate
        target = trusted_target(ctx, session, target)
        if not session.may_act_on(target.get("centre")):
            raise PreventUpdate
        if "pause_candidate" in kinds:
            st = cand.status(ctx, session, target.get("candidate_id") or "")
            now, text = cand.offer(kinds, st), cand.note(st, session.lang)
        elif "pause" in kinds:
            now = available(tuple(kinds), centre_paused(ctx, session, target.get("centre")))
            text = ""
        else:
            raise PreventUpdate
        options = _options(now, session.lang)
        if options == shown and text == (said or ""):
            raise PreventUpdate
        return options, value if value in now else (now[0] if now else None), text


def _register_act(app: Dash, ctx: AppContext) -> None:

    @app.callback(
        Output("act-confirm", "message"),
        Output("act-confirm", "displayed"),
        Output("act-result", "children"),
        Input("act-submit", "n_clicks"),
        State("act-kind", "value"),
        State("act-minutes", "value"),
        State("act-text", "value"),
        State("act-reason", "value"),
        State("act-target", "data"),
        State("act-category", "value"),
        prevent_initial_call=True,
    )
    def ask(
        n: int,
        kind: str | None,
        minutes: Any,
        text: str | None,
        reason: str | None,
        target: dict[str, str],
        category: str | None,
    ) -> tuple[Any, Any, Any]:
        session = ctx.session()
        if session is None or not n:
            raise PreventUpdate
        lang = session.lang
        error = _validate(kind, minutes, text, reason, lang, category)
        if error or kind is None:
            return no_update, False, html.Span(error, className="error")
        target = trusted_target(ctx, session, target)
        if not session.may_act_on(target.get("centre")):
            return no_update, False, html.Span(t("forbidden", lang), className="error")
        motive = _motive((reason or "").strip(), category, kind, lang)
        if kind == "end_candidate":
            st = cand.status(ctx, session, target.get("candidate_id") or "")
            message = cand.confirm_end(st, motive, lang)
            if message is None:
                return no_update, False, html.Span(t("end_not_running", lang), className="error")
            return message, True, ""
        label = target.get("candidate_id") or target.get("centre") or ""
        message = t("confirm", lang, what=_what(kind, minutes, lang), target=label, reason=motive)
        return message.strip(), True, ""

    @app.callback(
        Output("act-result", "children", allow_duplicate=True),
        Output("act-reason", "value"),
        Output("act-text", "value"),
        Output("act-minutes", "value"),
        Output("act-category", "value"),
        Input("act-confirm", "submit_n_clicks"),
        State("act-kind", "value"),
        State("act-minutes", "value"),
        State("act-text", "value"),
        State("act-reason", "value"),
        State("act-target", "data"),
        State("act-category", "value"),
        prevent_initial_call=True,
    )
    def confirmed(
        n: int | None,
        kind: str | None,
        minutes: Any,
        text: str | None,
        reason: str | None,
        target: dict[str, str],
        category: str | None,
    ) -> tuple[Any, ...]:
        session = ctx.session()
        if session is None or not n:
            raise PreventUpdate
        lang = session.lang
        keep = (no_update,) * 4
        error = _validate(kind, minutes, text, reason, lang, category)
        if error or kind is None:
            return html.Span(error, className="error"), *keep
        target = trusted_target(ctx, session, target)
        if not session.may_act_on(target.get("centre")):
            return html.Span(t("forbidden", lang), className="error"), *keep
        if kind in _UNCATEGORISED:
            category = None
        try:
            answer = execute(
                ctx, session, kind, target, minutes, text, (reason or "").strip(), category
            )
        except JuryApiError as exc:
            return html.Span(error_text(exc, lang), className="error"), *keep
        said = cand.done_text(kind, answer if isinstance(answer, dict) else {}, lang)
        what = said or t("done", lang, what=_what(kind, minutes, lang))
        done = html.Span(what, className="ok", id="act-done")
        # Emptied: the same click again must be a new, deliberate decision.
        return done, "", "", None, None
