"""The jury's actions on one candidate: pause, resume, end their time now.

A row's ``paused`` says that the candidate may not compose, whether their centre or
they alone are paused; the two pauses are separate decisions (a centre's resume leaves
a candidate paused alone paused), so the panel tells them apart: the row's
``paused_alone`` says whether the jury paused this candidate alone, and a centre is
paused when every one of its rows is (a centre pause pauses them all). Only
« Reprendre » is offered to a candidate paused alone, « Suspendre » otherwise. Ending
someone's time is explicit: the confirmation names them and what they lose, counted
from their row's deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from supervision_dashboard.clock import clock
from supervision_dashboard.context import AppContext, JurySession
from supervision_dashboard.i18n import t
from supervision_dashboard.rows import COMPOSING, duration
from vigie.jury_client import JuryApiError
from vigie.protocol import ReasonCategory

CANDIDATE_KINDS = ("pause_candidate", "resume_candidate", "end_candidate")
CATEGORIES = tuple(c.value for c in ReasonCategory)


@dataclass(frozen=True, slots=True)
class CandidateStatus:
    candidate_id: str
    centre: str
    own_paused: bool  # the jury paused them alone (their centre may be working)
    centre_paused: bool
    unit_id: str | None
    deadline: float | None  # their own deadline, when their unit still runs for them
    left_s: float | None  # what ending their time now would take from them


def centre_paused(rows: Iterable[Mapping[str, Any]], centre: str | None) -> bool:
    """A centre's pause pauses every one of its candidates: one row at work means it is
    not paused (that row's neighbours may be paused alone)."""
    mine = [r for r in rows if r.get("centre") == centre]
    return bool(mine) and all(r.get("paused") for r in mine)


def status(ctx: AppContext, session: JurySession, candidate_id: str) -> CandidateStatus | None:
    """What the jury may do to this candidate now, from the feed."""
    feed = ctx.feed_for(session)
    with feed.lock:
        row = feed.state.rows.get(candidate_id)
        if row is None:
            return None
        centre = str(row.get("centre") or "")
        both = centre_paused(feed.state.rows.values(), centre)
        ts = float(feed.state.server_ts or 0)
        row = dict(row)
    own = bool(row.get("paused_alone"))
    raw = row.get("deadline")
    deadline = float(raw) if isinstance(raw, int | float) else None
    if row.get("state") not in COMPOSING or deadline is None or deadline <= ts:
        deadline = None  # their time does not run: nothing to end
    return CandidateStatus(
        candidate_id=candidate_id,
        centre=centre,
        own_paused=own,
        centre_paused=both,
        unit_id=str(row.get("unit_id") or "") or None,
        deadline=deadline,
        left_s=deadline - ts if deadline is not None else None,
    )


def offer(kinds: Iterable[str], st: CandidateStatus | None) -> list[str]:
    """« Reprendre » for a candidate paused alone, « Suspendre » otherwise; « Mettre fin
    au temps » while their time runs."""
    out = []
    for k in kinds:
        if k == "pause_candidate" and (st is None or st.own_paused):
            continue
        if k == "resume_candidate" and (st is None or not st.own_paused):
            continue
        if k == "end_candidate" and (st is None or st.left_s is None):
            continue
        out.append(k)
    return out


def note(st: CandidateStatus | None, lang: str) -> str:
    """Says when their centre is paused too (a resume of theirs then frees nothing yet)."""
    if st is None:
        return ""
    if st.own_paused and st.centre_paused:
        return t("cand_paused_both", lang, centre=st.centre)
    if st.centre_paused:
        return t("cand_centre_paused", lang, centre=st.centre)
    return t("cand_paused_alone", lang) if st.own_paused else ""


def confirm_end(st: CandidateStatus | None, reason: str, lang: str) -> str | None:
    """The end's confirmation: who, on which unit, what they lose; None when their time
    does not run (nothing to end)."""
    if st is None or st.left_s is None:
        return None
    return t(
        "confirm_end",
        lang,
        cid=st.candidate_id,
        centre=st.centre,
        unit=st.unit_id or "—",
        lost=duration(st.left_s, lang),
        deadline=clock(st.deadline),
        reason=reason,
    )


def execute(
    client: Any, kind: str, candidate_id: str, reason: str, category: str | None
) -> dict[str, Any]:
    """Send one candidate action (raises JuryApiError); the server's answer."""
    if kind == "pause_candidate":
        return dict(client.pause_candidate(candidate_id, reason, category))
    if kind == "resume_candidate":
        return dict(client.resume_candidate(candidate_id, reason, category))
    if kind == "end_candidate":
        return dict(client.end_candidate_time(candidate_id, reason, category))
    raise JuryApiError(422, "invalid_request", kind)


def done_text(kind: str, answer: Mapping[str, Any], lang: str) -> str | None:
    """What the end took, as the server counted it (None: the plain « Action enregistrée »)."""
    if kind != "end_candidate":
        return None
    lost = answer.get("seconds_lost")
    seconds = float(lost) if isinstance(lost, int | float) else 0.0
    cid = answer.get("candidate_id", "")
    return t("done_end", lang, cid=cid, lost=duration(seconds, lang))


def category_options(lang: str) -> list[dict[str, str]]:
    return [{"label": t(f"cat_{c}", lang), "value": c} for c in CATEGORIES]


def category_box(lang: str, shown: bool) -> Any:
    """The reason's category, beside the free text (optional: a reason alone still acts)."""
    # A handful of choices: no search box (Dash 4 labels it « Search », in English).
    select = dcc.Dropdown(
        id="act-category",
        options=category_options(lang),
        value=None,
        placeholder=t("category_none", lang),
        searchable=False,
    )
    return html.Div(
        html.Label([t("category", lang), select]),
        id="act-category-box",
        style={} if shown else {"display": "none"},
    )
