"""The national view's banner of what departs from the national timetable right now.

Which centres are paused, how many candidates are paused alone, and who works on past
the national end (extra time, or paused time given back): the national jury must not
close a unit, or launch the next one, without having them in view. Shown only when
there is something to show. Pauses come from the feed's rows (a centre is paused when
all its rows are: a candidate paused alone leaves their neighbours working); the
national end comes from the unit's launch (the shared :class:`~supervision_dashboard.
units.UnitBook` reading, a few seconds old at most).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dash import Dash, Input, Output, State, html
from dash.exceptions import PreventUpdate

from supervision_dashboard.clock import clock
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.units import UnitStatus, still_working
from vigie.jury_client import JuryApiError

TICK_EVERY = 2  # page refreshes between two readings: pauses and extensions move slowly
NAMED_CENTRES = 12  # centres named in the banner; the others are counted
# A candidate who is done, or was never there, is not working on past the end.
_NOT_WORKING = frozenset({"finished", "unfinished", "not_connected"})


@dataclass(frozen=True, slots=True)
class Active:
    centres_paused: tuple[str, ...] = ()
    candidates_paused: int = 0  # paused alone, in a centre that is not paused
    overtime: int = 0  # candidates working past the national end
    overtime_until: float | None = None  # the latest of their ends
    national_end: float | None = None

    def __bool__(self) -> bool:
        return bool(self.centres_paused or self.candidates_paused or self.overtime)


def pauses(rows: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, ...], int]:
    """(centres paused, candidates paused alone elsewhere) from the rows' ``paused``."""
    by_centre: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        by_centre[str(r.get("centre", ""))].append(bool(r.get("paused")))
    centres = tuple(sorted(c for c, flags in by_centre.items() if flags and all(flags)))
    alone = sum(sum(flags) for c, flags in by_centre.items() if not all(flags))
    return centres, alone


def overtime(
    rows: Iterable[Mapping[str, Any]], units: Iterable[UnitStatus], now: float
) -> tuple[int, float | None, float | None]:
    """(how many work past the national end, until when at the latest, that end)."""
    for u in units:
        if u.launched_at is None or u.deadline is None:
            continue
        if u.closed_at is None:
            # Running: whoever's own deadline lies beyond the national end works on past it.
            ends = [
                float(r["deadline"])
                for r in rows
                if r.get("unit_id") == u.id
                and r.get("state") not in _NOT_WORKING
                and isinstance(r.get("deadline"), int | float)
                and float(r["deadline"]) > max(u.deadline, now)
            ]
            if ends:
                return len(ends), max(ends), u.deadline
        else:
            # Closed: the server's own rule says who still works (close + their extra time).
            working = still_working(rows, u.id, u.closed_at, now)
            if working:
                return len(working), working[0].deadline, min(u.deadline, u.closed_at)
    return 0, None, None


def active(rows: Iterable[Mapping[str, Any]], units: Iterable[UnitStatus], now: float) -> Active:
    rows = list(rows)
    centres, alone = pauses(rows)
    n, until, end = overtime(rows, units, now)
    return Active(centres, alone, n, until, end)


def banner_parts(a: Active, lang: str) -> list[str]:
    parts = []
    if a.centres_paused:
        shown = ", ".join(a.centres_paused[:NAMED_CENTRES])
        more = len(a.centres_paused) - NAMED_CENTRES
        if more > 0:
            shown += " " + t("and_more", lang, n=more)
        parts.append(t("banner_centres_paused", lang, centres=shown))
    if a.candidates_paused:
        parts.append(t("banner_candidates_paused", lang, n=a.candidates_paused))
    if a.overtime:
        end, until = clock(a.national_end), clock(a.overtime_until)
        parts.append(t("banner_overtime", lang, n=a.overtime, end=end, t=until))
    return parts


def placeholder(ctx: AppContext) -> Any:
    """The banner's place on the national view, and its own timer."""
    return html.Div(
        [html.Div(id="nat-active", role="status"), ctx.timer("banner-tick", TICK_EVERY)]
    )


def read(ctx: AppContext, session: JurySession) -> Active:
    feed = ctx.feed_for(session)
    try:
        units = ctx.units.read(ctx.client_for(session))
    except JuryApiError:
        units = []  # the pauses are still worth showing; the dead feed has its own banner
    with feed.lock:
        return active(feed.state.rows.values(), units, float(feed.state.server_ts or 0))


def register(app: Dash, ctx: AppContext) -> None:
    @app.callback(
        Output("nat-active", "children"),
        Output("nat-active", "className"),
        Input("banner-tick", "n_intervals"),
        State("view-id", "data"),
    )
    def fill(_n: int | None, view_id: str | None) -> tuple[Any, str]:
        session = ctx.session()
        # National data: never for a centre juror, even by a forged request.
        if session is None or session.scope is not None or not view_id:
            raise PreventUpdate
        parts = banner_parts(read(ctx, session), session.lang)
        mem = ctx.memory.get(f"{session.identity.username}:{view_id}")
        if mem.get("banner") == parts and _n:
            raise PreventUpdate
        mem["banner"] = parts
        if not parts:
            return None, ""
        return [html.Span(p) for p in parts], "active-banner"
