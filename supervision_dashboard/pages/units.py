"""The national jury's unit controls on the national view: launch a unit, close it.

One line per unit of the session with its state (not launched, running, closed,
replaced) and the one action that state allows. Each decision needs a reason and an
explicit confirmation that says what will happen (for a close: who keeps their extra
time and works on after it); the server's answer is shown in French. Only national
jurors get the panel, and every callback checks the role again on the server side: a
forged Dash request from a centre juror or an observer never reaches the exam server.
"""

from __future__ import annotations

import time
from typing import Any, TypeGuard

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html, no_update
from dash.exceptions import PreventUpdate

from supervision_dashboard.clock import clock
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.pages.common import error_text
from supervision_dashboard.rows import duration
from supervision_dashboard.units import (
    UnitState,
    UnitStatus,
    Working,
    keeps_extra_time,
    running,
    still_working,
)
from vigie.jury_client import JuryApiError
from vigie.protocol import JuryRole

#: What each state allows (a closed or replaced unit is over: nothing to launch or close).
ACTION_FOR = {UnitState.NOT_LAUNCHED: "launch", UnitState.RUNNING: "close"}
NAMED = 10  # candidates named in a confirmation; the others are counted
TICK_EVERY = 4  # page refreshes between two readings of the units (shared, see UnitBook)


def is_national(session: JurySession | None) -> TypeGuard[JurySession]:
    return session is not None and session.identity.role == JuryRole.NATIONAL


def panel(ctx: AppContext, session: JurySession) -> Any:
    """The units box for a national juror, nothing for anyone else."""
    if not is_national(session):
        return None
    lang = session.lang
    return html.Div(
        [
            html.H4(t("units_title", lang)),
            html.P(t("units_hint", lang), className="muted"),
            html.Div(id="units-table"),
            html.Label(
                [t("reason", lang), dcc.Input(id="units-reason", type="text", maxLength=500)]
            ),
            dcc.ConfirmDialog(id="units-confirm"),
            html.Div(id="units-msg", className="result"),
            dcc.Store(id="units-pending"),
            dcc.Store(id="units-sig"),
            dcc.Store(id="units-version", data=0),
            ctx.timer("units-tick", TICK_EVERY),
        ],
        id="units-panel",
        className="actions units",
    )


def state_text(u: UnitStatus, lang: str) -> str:
    return t(f"unit_state_{u.state.value}", lang)


def times_text(u: UnitStatus, lang: str, working: list[Working] | None = None) -> str:
    parts = []
    if u.launched_at is not None and u.closed_at is None:
        parts.append(t("unit_times_running", lang, launch=clock(u.launched_at), deadline=clock(u.deadline)))  # fmt: skip
    elif u.launched_at is not None:
        parts.append(t("unit_times_closed", lang, launch=clock(u.launched_at), close=clock(u.closed_at)))  # fmt: skip
    if working:
        parts.append(t("unit_working", lang, n=len(working), t=clock(working[0].deadline)))
    if u.replaced_by:
        parts.append(t("unit_replaced_by", lang, backup=u.replaced_by))
    if u.replaces:
        parts.append(t("unit_replaces", lang, unit=u.replaces))
    return " · ".join(parts)


def working_now(ctx: AppContext, session: JurySession, units: list[UnitStatus]) -> dict[str, list[Working]]:  # fmt: skip
    """Closed units whose candidates still work on their extra time, from the live feed."""
    feed = ctx.feed_for(session)
    with feed.lock:
        rows, now = list(feed.state.rows.values()), float(feed.state.server_ts or 0)
    found = {
        u.id: still_working(rows, u.id, u.closed_at, now) for u in units if u.closed_at is not None
    }
    return {uid: w for uid, w in found.items() if w}


def table(units: list[UnitStatus], lang: str, working: dict[str, list[Working]]) -> Any:
    head = html.Tr([html.Th(t(k, lang)) for k in ("units_col_unit", "units_col_state", "units_col_times", "units_col_action")])  # fmt: skip
    rows = []
    for u in units:
        action = ACTION_FOR.get(u.state)
        button = (
            html.Button(
                t(f"unit_{action}", lang),
                id={"type": "unit-act", "unit": u.id, "action": action},
                n_clicks=0,
                className=f"unit-{action}",
            )
            if action
            else None
        )
        rows.append(
            html.Tr(
                [
                    html.Td([html.B(u.id), " ", html.Span(u.ref.title, className="muted")]),
                    html.Td(
                        state_text(u, lang),
                        id=f"unit-state-{u.id}",
                        className=f"unit-{u.state.value}",
                    ),
                    html.Td(times_text(u, lang, working.get(u.id)), id=f"unit-times-{u.id}"),
                    html.Td(button),
                ],
                id=f"unit-row-{u.id}",
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="units-table")


def signature(units: list[UnitStatus], lang: str, working: dict[str, list[Working]]) -> list[Any]:
    return [[u.id, u.state.value, times_text(u, lang, working.get(u.id))] for u in units]


def named(items: list[str], lang: str) -> str:
    shown = ", ".join(items[:NAMED])
    return shown + (" " + t("and_more", lang, n=len(items) - NAMED) if len(items) > NAMED else "")


def confirmation(ctx: AppContext, session: JurySession, units: list[UnitStatus], u: UnitStatus, action: str, reason: str) -> str:  # fmt: skip
    """What will happen, in words, before the juror says yes."""
    lang = session.lang
    feed = ctx.feed_for(session)
    with feed.lock:
        rows, now = list(feed.state.rows.values()), float(feed.state.server_ts or time.time())
    if action == "launch":
        n = sum(1 for r in rows if r.get("connected"))
        text = t("confirm_launch", lang, unit=u.id, title=u.ref.title, duration=duration(u.ref.duration_s, lang), n=n, reason=reason)  # fmt: skip
        # Pending extensions: said before the juror confirms, though the server decides.
        for uid, working in working_now(ctx, session, units).items():
            who = named([w.candidate_id for w in working], lang)
            text += " " + t("launch_warn_working", lang, n=len(working), unit=uid, t=clock(working[0].deadline), who=who)  # fmt: skip
        return text
    keep = keeps_extra_time(rows, u.id, now)
    items = [t("overtime_item", lang, cid=o.candidate_id, centre=o.centre, d=duration(o.extra_s, lang)) for o in keep]  # fmt: skip
    who = t("close_keeps", lang, n=len(keep), who=named(items, lang)) if keep else t("close_keeps_none", lang)  # fmt: skip
    return t("confirm_close", lang, unit=u.id, title=u.ref.title, who=who, reason=reason)


def answer_text(action: str, unit: str, answer: Any, lang: str) -> str:
    """The server's answer, in the juror's words (never its JSON)."""
    doc = answer if isinstance(answer, dict) else {}
    if action == "launch":
        return t("done_launch", lang, unit=unit, deadline=clock(doc.get("deadline")))
    after = [o for o in doc.get("overtime") or [] if isinstance(o, dict)]
    items = [t("overtime_until", lang, cid=o.get("candidate_id"), t=clock(o.get("deadline"))) for o in after]  # fmt: skip
    who = t("done_close_keeps", lang, n=len(after), who=named(items, lang)) if after else t("done_close_none", lang)  # fmt: skip
    # The answer has no close time (a UnitInfo): the close is now, as the juror confirmed it.
    return t("done_close", lang, unit=unit, t=clock(time.time()), who=who)


def refusal(exc: JuryApiError, action: str, unit: str, units: list[UnitStatus], lang: str) -> str:
    """A refusal in French; the launch's one code covers three cases the jury must tell apart."""
    if action == "launch" and exc.code == "unit_already_launched":
        this = next((u for u in units if u.id == unit), None)
        other = running(units)
        if this is not None and this.launched_at is not None:
            return t("launch_refused_already", lang)
        if other is not None and other.id != unit:
            return t("launch_refused_other", lang, unit=other.id)
        return t("launch_refused_overtime", lang)
    return error_text(exc, lang)


def _find(units: list[UnitStatus], unit: Any) -> UnitStatus | None:
    return next((u for u in units if u.id == unit), None)


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("units-table", "children"),
        Output("units-sig", "data"),
        Input("units-tick", "n_intervals"),
        Input("units-version", "data"),
        State("units-sig", "data"),
    )
    def fill(_n: int | None, _version: int | None, shown: Any) -> tuple[Any, Any]:
        session = ctx.session()
        if not is_national(session):
            raise PreventUpdate
        lang = session.lang
        try:
            units = ctx.units.read(ctx.client_for(session))
        except JuryApiError as exc:
            why = t("units_unreadable", lang, why=error_text(exc, lang))
            return html.P(why, className="error", id="units-error"), None
        working = working_now(ctx, session, units)
        sig = signature(units, lang, working)
        if sig == shown:
            raise PreventUpdate
        return table(units, lang, working), sig

    @app.callback(
        Output("units-pending", "data"),
        Output("units-confirm", "message"),
        Output("units-confirm", "displayed"),
        Output("units-msg", "children"),
        Input({"type": "unit-act", "unit": ALL, "action": ALL}, "n_clicks"),
        State("units-reason", "value"),
        prevent_initial_call=True,
    )
    def ask(clicks: list[int | None], reason: str | None) -> tuple[Any, Any, Any, Any]:
        session = ctx.session()
        trigger = callback_context.triggered_id
        if not is_national(session) or not isinstance(trigger, dict) or not any(clicks or []):
            raise PreventUpdate
        lang = session.lang
        if not (reason or "").strip():
            return None, no_update, False, html.Span(t("reason_required", lang), className="error")
        try:
            units = ctx.units.read(ctx.client_for(session))
        except JuryApiError as exc:
            return None, no_update, False, html.Span(error_text(exc, lang), className="error")
        u, action = _find(units, trigger.get("unit")), trigger.get("action")
        if u is None or ACTION_FOR.get(u.state) != action:
            return None, no_update, False, _stale(u, trigger.get("unit"), lang)
        message = confirmation(ctx, session, units, u, str(action), (reason or "").strip())
        return {"unit": u.id, "action": action}, message, True, ""

    @app.callback(
        Output("units-msg", "children", allow_duplicate=True),
        Output("units-reason", "value"),
        Output("units-version", "data"),
        Input("units-confirm", "submit_n_clicks"),
        State("units-pending", "data"),
        State("units-reason", "value"),
        State("units-version", "data"),
        prevent_initial_call=True,
    )
    def confirmed(n: int | None, pending: Any, reason: str | None, version: int | None) -> tuple[Any, Any, Any]:  # fmt: skip
        session = ctx.session()
        if session is None or not n:
            raise PreventUpdate
        text, done = decide(ctx, session, pending, reason)
        if done is None:
            return text, no_update, no_update
        # Emptied after a decision: the next launch or close needs its own reason.
        return text, "" if done else no_update, (version or 0) + 1


def decide(ctx: AppContext, session: JurySession, pending: Any, reason: str | None) -> tuple[Any, bool | None]:  # fmt: skip
    """Send the confirmed decision; the message, and whether the server took it (None: not sent)."""
    lang = session.lang
    if not is_national(session):  # a forged request: refused here, never sent on
        return html.Span(t("units_national_only", lang), className="error", id="units-refused"), None  # fmt: skip
    if not isinstance(pending, dict) or not (reason or "").strip():
        return html.Span(t("reason_required", lang), className="error"), None
    client = ctx.client_for(session)
    unit, action, why = str(pending.get("unit")), pending.get("action"), (reason or "").strip()
    units: list[UnitStatus] = []
    try:
        # Read afresh: another juror (or the scripted jury) may have acted since the dialog.
        ctx.units.invalidate()
        units = ctx.units.read(client)
        u = _find(units, unit)
        if u is None or ACTION_FOR.get(u.state) != action:
            return _stale(u, unit, lang), None
        if action == "launch":
            answer = client.launch_unit(unit, why)
        else:
            answer = client.close_unit(unit, why)
    except JuryApiError as exc:
        ctx.units.invalidate()
        return html.Span(refusal(exc, str(action), unit, units, lang), className="error"), False
    ctx.units.invalidate()
    text = answer_text(str(action), unit, answer, lang)
    return html.Span(text, className="ok", id="units-done"), True


def _stale(u: UnitStatus | None, unit: Any, lang: str) -> Any:
    state = state_text(u, lang) if u is not None else "?"
    return html.Span(t("unit_not_actionable", lang, unit=unit, state=state), className="error")
