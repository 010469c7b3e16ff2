"""Candidate rows as the centre grid shows them: French-readable, cheap to diff.

The feed only carries a row again when its state, progress, deadline or reconnects
change, so values that tick with the clock (heartbeat age, time left) are computed
here from the feed's ``server_ts`` and rounded: coarse values change rarely, and
a grid row that did not change is not re-sent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from supervision_dashboard.clock import clock
from supervision_dashboard.heatmap import SEVERITY
from supervision_dashboard.i18n import t
from vigie.protocol import DEFAULT_LATE_AFTER_S, CandidateState

HEALTHY_CONNECTED = frozenset(
    s.value for s in (CandidateState.WAITING, CandidateState.IN_PROGRESS, CandidateState.PAUSED)
)
# A tablet gone for good is described by when it was last heard, not by an age.
GONE = frozenset(s.value for s in (CandidateState.LOST, CandidateState.UNFINISHED))


def duration(seconds: float | None, lang: str = "fr") -> str:
    """``1 h 05 min``, ``12 min``, ``45 s``; empty for unknown."""
    if seconds is None:
        return ""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    h, m = divmod(s // 60, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def heartbeat_age(
    row: Mapping[str, Any], server_ts: float, late_after_s: float, lang: str = "fr"
) -> str:
    last = row.get("last_hb")
    if last is None:
        return "—"
    if row.get("state") in GONE:
        return t("last_seen", lang, t=clock(float(last)))
    age = max(0.0, server_ts - float(last))
    # A healthy connected row is not re-sent at each heartbeat, so its last_hb is stale
    # by design; the server would have marked it late past late_after_s.
    if row.get("state") in HEALTHY_CONNECTED and age > late_after_s:
        return f"< {late_after_s:g} s"
    if age < 60:
        return f"{age:.0f} s"
    return duration(age)


# Time left means something only to a candidate still composing (or who could be).
COMPOSING = frozenset(
    s.value
    for s in (
        CandidateState.IN_PROGRESS,
        CandidateState.LATE,
        CandidateState.LOST,
        CandidateState.PAUSED,
    )
)


def time_left(row: Mapping[str, Any], server_ts: float) -> str:
    deadline = row.get("deadline")
    if deadline is None or row.get("state", CandidateState.IN_PROGRESS) not in COMPOSING:
        return ""
    left = float(deadline) - server_ts
    if left <= 0:
        return "0"
    if left < 60:
        return "< 1 min"
    return duration(left // 60 * 60)


def connection(row: Mapping[str, Any], lang: str = "fr") -> str:
    if row.get("connected"):
        return t("conn_on", lang)
    return t("conn_off" if row.get("last_hb") is not None else "conn_never", lang)


def incident_to_grant(row: Mapping[str, Any]) -> float:
    """Incident time proposed for this candidate and not granted yet (seconds)."""
    proposed = float(row.get("proposed_incident_s") or 0)
    return max(0.0, proposed - float(row.get("incident_extra_s") or 0))


def planned_text(row: Mapping[str, Any], lang: str = "fr") -> str:
    """Planned extra time (tiers-temps) in the deadline; what is due when it is missing."""
    due = float(row.get("planned_due_s") or 0)
    have = float(row.get("planned_extra_s") or 0)
    if row.get("planned_missing"):
        return t("planned_missing_cell", lang, d=duration(due, lang), have=duration(have, lang))
    return duration(have, lang) if have else ""


def last_answer(row: Mapping[str, Any]) -> str:
    """When the server stored the candidate's last answer on the unit, on the exam's clock."""
    return clock(row.get("last_answer_at")) or "—"


def pending(row: Mapping[str, Any]) -> int:
    """Answers the tablet holds that the server lacks (kept offline, or on their way)."""
    value = row.get("pending_offline")
    return max(0, int(value)) if isinstance(value, int | float) else 0


def grid_row(
    row: Mapping[str, Any],
    server_ts: float,
    lang: str = "fr",
    late_after_s: float = DEFAULT_LATE_AFTER_S,
) -> dict[str, Any]:
    state = str(row.get("state", "not_connected"))
    n = int(row.get("question_count") or 0)
    position = row.get("position")
    seen = row.get("last_hb") is not None  # a tablet never connected is on no question
    question = f"{int(position) + 1}/{n}" if seen and n and position is not None else ""
    battery = row.get("battery")
    label = t(state, lang)
    if row.get("paused") and state != CandidateState.PAUSED:
        label += " · " + t("centre_paused", lang)  # the pause must not hide the loss
    return {
        "id": str(row["id"]),
        "state": state,
        "state_label": label,
        "connection": connection(row, lang),
        "rank": SEVERITY.get(state, 9),
        "age": heartbeat_age(row, server_ts, late_after_s, lang),
        "question": question,
        "progress": round(100 * float(row.get("progress") or 0.0)),
        "left": time_left(row, server_ts),
        "extra": duration(float(row.get("extra_time_s") or 0)) if row.get("extra_time_s") else "",
        # Kept apart: planned (roster), incident (time lost, granted back), and what to grant.
        "planned": planned_text(row, lang),
        "planned_missing": bool(row.get("planned_missing")),
        "incident": duration(float(row.get("incident_extra_s") or 0))
        if row.get("incident_extra_s")
        else "",
        "to_grant": duration(incident_to_grant(row)) if incident_to_grant(row) else "",
        "battery": None if battery is None else int(battery),
        "reconnects": int(row.get("reconnects") or 0),
        "disconnected": duration(float(row.get("disconnected_s") or 0))
        if row.get("disconnected_s")
        else "",
        # Where staff walk to (the roster's room and seat), and whether the answers get through.
        "room": str(row.get("room") or ""),
        "seat": str(row.get("seat") or ""),
        "last_answer": last_answer(row),
        "pending": pending(row),
    }


def grid_delta(
    previous: Mapping[str, dict[str, Any]], current: Mapping[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """An AG Grid ``rowTransaction`` from one rendering of the rows to the next."""
    add = [r for k, r in current.items() if k not in previous]
    update = [r for k, r in current.items() if k in previous and previous[k] != r]
    remove = [{"id": k} for k in previous if k not in current]
    return {"add": add, "update": update, "remove": remove}


def _natural(room: str) -> tuple[Any, ...]:
    # « Salle 2 » before « Salle 10 »: the roster numbers its rooms.
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", room))


def rooms(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """The rooms these rows sit in, each with its number of candidates, in the roster's order."""
    counts = Counter(str(r["room"]) for r in rows if r.get("room"))
    return sorted(counts.items(), key=lambda kv: _natural(kv[0]))
