"""Pieces every page uses: state badges, the alert list, the feed status line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dash import dcc, html

from supervision_dashboard.alerts import Alert, AlertGroup
from supervision_dashboard.clock import clock
from supervision_dashboard.feed import Feed
from supervision_dashboard.heatmap import COLOURS, STATE_ORDER
from supervision_dashboard.i18n import t
from supervision_dashboard.rows import duration
from vigie.jury_client import UNREACHABLE, JuryApiError

# AG Grid speaks English unless told otherwise: its own words, in the jury's language.
GRID_LOCALE: dict[str, dict[str, str]] = {
    "fr": {
        "noRowsToShow": "Aucune ligne",
        "loadingOoo": "Chargement…",
        "filterOoo": "Filtrer…",
        "searchOoo": "Rechercher…",
        "equals": "Égal à",
        "notEqual": "Différent de",
        "blank": "Vide",
        "notBlank": "Non vide",
        "empty": "Choisir…",
        "lessThan": "Inférieur à",
        "greaterThan": "Supérieur à",
        "lessThanOrEqual": "Inférieur ou égal à",
        "greaterThanOrEqual": "Supérieur ou égal à",
        "inRange": "Entre",
        "inRangeStart": "De",
        "inRangeEnd": "À",
        "contains": "Contient",
        "notContains": "Ne contient pas",
        "startsWith": "Commence par",
        "endsWith": "Se termine par",
        "andCondition": "ET",
        "orCondition": "OU",
        "applyFilter": "Appliquer",
        "resetFilter": "Réinitialiser",
        "clearFilter": "Effacer",
        "cancelFilter": "Annuler",
        "textFilter": "Filtre texte",
        "numberFilter": "Filtre numérique",
        "dateFilter": "Filtre de date",
        "selectAll": "Tout sélectionner",
        "pinColumn": "Épingler la colonne",
        "pinLeft": "Épingler à gauche",
        "pinRight": "Épingler à droite",
        "noPin": "Ne pas épingler",
        "autosizeThisColumn": "Ajuster cette colonne",
        "autosizeAllColumns": "Ajuster toutes les colonnes",
        "resetColumns": "Réinitialiser les colonnes",
        "sortAscending": "Tri croissant",
        "sortDescending": "Tri décroissant",
        "sortUnSort": "Annuler le tri",
        "columns": "Colonnes",
        "filters": "Filtres",
        "page": "Page",
        "of": "sur",
        "to": "à",
        "more": "plus",
        "next": "Suivant",
        "last": "Dernier",
        "first": "Premier",
        "previous": "Précédent",
    },
    "en": {},
}


# Headers wrap instead of being cut (« Temps suppl. », « Dernier signal »), and grids
# size columns to their content: nothing truncated at 1,600 px nor on a 1,366 px laptop.
GRID_COLS: dict[str, Any] = {
    "resizable": True,
    "sortable": True,
    "filter": True,
    "wrapHeaderText": True,
    "autoHeaderHeight": True,
}
GRID_FIT: dict[str, Any] = {"columnSize": "autoSize"}  # headers included by default


def error_text(exc: JuryApiError, lang: str) -> str:
    """A refusal as the juror reads it: never a Python repr, never the server's English."""
    if exc.code == UNREACHABLE:
        return t("server_unreachable", lang)
    key = f"err_{exc.code}"
    known = t(key, lang)
    if known != key:
        return known
    if lang == "en" and exc.message:
        return t("refused", lang, msg=exc.message[:200])
    return t("refused_code", lang, code=exc.code)


def badges(counts: Mapping[str, Any], lang: str) -> list[Any]:
    """One coloured badge per state (ids ``count-<state>`` so tests can read them)."""
    out: list[Any] = []
    for state in STATE_ORDER:
        out.append(
            html.Span(
                [
                    html.B(str(int(counts.get(state.value, 0))), id=f"count-{state.value}"),
                    " ",
                    t(state.value, lang),
                ],
                className="badge",
                style={"borderLeft": f"8px solid {COLOURS[state.value]}"},
            )
        )
    total = sum(int(v) for v in counts.values() if isinstance(v, int | float))
    out.append(
        html.Span([html.B(str(total), id="count-total"), " ", t("total", lang)], className="badge")
    )
    return out


def alert_text(alert: Alert, lang: str) -> str:
    f = alert.fields
    if alert.kind == "lost":
        return t("alert_lost", lang, cid=alert.candidate_id)
    if alert.kind == "loop":
        return t("alert_loop", lang, cid=alert.candidate_id, n=f.get("n"), m=f.get("m"))
    if alert.kind == "mass":
        return t("alert_mass", lang, centre=alert.centre, n=f.get("n"), pct=f.get("pct"))
    if alert.kind == "planned":
        return t("alert_planned", lang, cid=alert.candidate_id, m=f.get("min"))
    if alert.kind == "battery":
        return t("alert_battery", lang, cid=alert.candidate_id, pct=f.get("pct"))
    if alert.kind == "pending":
        return t("alert_pending", lang, cid=alert.candidate_id, n=f.get("n"))
    return t("alert_fraud", lang, cid=alert.candidate_id, path=f.get("path"))


def alert_list(alerts: list[Alert], lang: str) -> Any:
    if not alerts:
        return html.P(t("no_alert", lang), className="muted")
    items = []
    for a in alerts:
        target = f"/candidate/{a.candidate_id}" if a.candidate_id else f"/centre/{a.centre}"
        items.append(
            html.Li(
                [
                    html.Span(clock(a.ts), className="clock"),
                    dcc.Link(alert_text(a, lang), href=target),
                ],
                className=f"alert alert-{a.kind}",
            )
        )
    return html.Ul(items, className="alerts")


ALERT_DETAIL = 50  # individual alerts listed under a centre's line on its own page
_KINDS = ("mass", "planned", "pending", "lost", "loop", "battery", "fraud")


def group_summary(group: AlertGroup, lang: str) -> str:
    parts = [t(f"group_{kind}", lang, n=n) for kind in _KINDS if (n := group.count(kind))]
    return " · ".join(parts)


def _age(seconds: float, lang: str) -> str:
    return t("since", lang, d=duration(seconds // 60 * 60 if seconds >= 60 else seconds, lang))


def alert_groups(
    groups: list[AlertGroup], now: float, lang: str, may_ack: Callable[[str], bool], detail: bool
) -> Any:
    """One line per centre (count by kind, age, acknowledgement); ``detail`` lists its alerts."""
    if not groups:
        return html.P(t("no_alert", lang), className="muted")
    items = []
    for g in groups:
        if g.acked_by is not None:
            ack: Any = html.Span(
                t("acked_by", lang, who=g.acked_by, t=clock(g.acked_at)), className="muted"
            )
        elif may_ack(g.centre):
            ack = html.Button(
                t("ack", lang), id={"type": "ack-alert", "centre": g.centre}, className="ack"
            )
        else:
            ack = None
        line: list[Any] = [
            html.Span(clock(g.last_ts), className="clock"),
            dcc.Link(html.B(g.centre), href=f"/centre/{g.centre}"),
            " : ",
            group_summary(g, lang),
            html.Span(" " + _age(now - g.first_ts, lang), className="age"),
            " ",
            ack,
        ]
        if detail:
            line.append(alert_list(list(g.alerts[:ALERT_DETAIL]), lang))
        state = "acked" if g.acked_by else "open"
        worst = next((k for k in _KINDS if g.count(k)), "lost")
        items.append(html.Li(line, className=f"alert-group alert-{worst} {state}"))
    return html.Ul(items, className="alerts", id="alert-groups")


def groups_signature(groups: list[AlertGroup], now: float) -> tuple[Any, ...]:
    """What the panel shows: re-sent only when it changed (ages move by the minute)."""
    return tuple(
        (g.centre, len(g.alerts), g.last_ts, g.acked_by, int((now - g.first_ts) // 60))
        for g in groups
    )


def status_line(feed: Feed | None, lang: str) -> str:
    # The feed's error can hold an exception's text: the header says what, not how.
    if feed is None or feed.last_ok is None:
        return t("feed_waiting", lang)
    stale = feed.staleness_s() or 0.0
    if stale > 5:
        return t("feed_stale", lang, s=round(stale))
    return t("updated", lang, t=clock(feed.state.server_ts))


def stale_after_s(feed: Feed, refresh_s: float) -> float:
    """Past two missed refreshes (of the feed or of the page), the figures are stale."""
    return 2 * max(feed.interval_s, refresh_s) + 1.0


def feed_banner(feed: Feed | None, refresh_s: float, lang: str) -> str | None:
    """The banner's text when the figures on screen are no longer the server's, else None."""
    if feed is None:
        return None
    if feed.last_ok is None:
        # Never heard: say so only once a first poll had time to fail.
        age = feed.age_s()
        return t("banner_never", lang) if age > stale_after_s(feed, refresh_s) else None
    stale = feed.staleness_s() or 0.0
    if stale <= stale_after_s(feed, refresh_s):
        return None
    return t("banner_stale", lang, s=round(stale), t=clock(feed.state.server_ts))
