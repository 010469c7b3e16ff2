"""Extra time at the end of a run: the 2019 and 2023 questions, asked of the server's rows.

* 2019: one centre did not apply a candidate's planned extra time (tiers-temps), and all
  9,336 candidates re-sat a test. Every candidate's deadline must include their planned time.
* 2023: the database failed and every student got a flat ~30 minutes. Here each candidate's
  time disconnected during the unit is granted back as incident time (the jury's one action,
  :func:`grant_incident_time`), and their deadline must include at least that.

Through the jury client (:mod:`vigie.jury_client`), in the Locust master. Nothing here
raises on a server's failure: a grant that fails is a note, a check that cannot read the
rows is a finding (``error``), and :func:`extra_time_problems` says what fails the verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from vigie.jury_client import JuryApiError, JuryClient

TOLERANCE_S = 1.0  # float noise, and the server's rounding of what it stores
EXAMPLES = 5  # candidates quoted per finding


def grant_incident_time(jury: JuryClient, reason: str) -> str:
    """Grant every centre's proposed incident time (the national jury); a note line."""
    try:
        doc = jury.grant_incident_time(reason)
    except JuryApiError as exc:
        return f"incident time not granted: {exc}"
    try:
        centres = [str(c) for c in doc.get("centres") or []]
        granted = f"{int(doc['candidates']):,} candidate(s), {float(doc['seconds']) / 60:.0f} min"
    except (AttributeError, KeyError, TypeError, ValueError):
        return f"incident time granted, but the server's answer is not the documented one: {doc!r:.200}"
    where = f" in {len(centres)} centre(s) ({', '.join(centres[:8])})" if centres else ""
    return f"incident time granted: {granted} in all{where}"


def _num(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def check_extra_time(
    jury: JuryClient,
    unit_id: str,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Every candidate's deadline on ``unit_id`` against their planned time and time away.

    From the jury snapshot: ``extra_time_s`` is the deadline beyond the national end,
    ``planned_due_s`` what the roster gives, ``incident_extra_s`` the incident time
    granted, ``disconnected_s`` the time away during the unit. Planned time is missing
    when the extra time other than incident time falls short of it; time away is not
    covered when incident time, plus any other extra time beyond the planned time,
    falls short of it. The centres in ``exclude`` (left to real tablets) are not judged.
    """
    findings: dict[str, Any] = {"unit_id": unit_id, "checked": 0, "error": None}
    try:
        doc = jury.snapshot()
    except JuryApiError as exc:
        findings["error"] = f"the jury snapshot failed: {exc}"
        return findings
    if doc.get("unit_id") != unit_id:
        findings["error"] = f"the server's current unit is {doc.get('unit_id')!r}, not {unit_id!r}"
        return findings
    rows = [
        row
        for row in doc.get("candidates", [])
        if row.get("unit_id") == unit_id and row.get("centre") not in exclude
    ]
    if rows and "planned_due_s" not in rows[0]:
        findings["error"] = "the server reports no planned or incident extra time (not vigie?)"
        return findings
    missing: list[dict[str, Any]] = []
    short: list[dict[str, Any]] = []
    planned = away = 0
    granted = 0.0
    for row in rows:
        extra, due = _num(row, "extra_time_s"), _num(row, "planned_due_s")
        incident, disc = _num(row, "incident_extra_s"), _num(row, "disconnected_s")
        other = extra - incident
        planned += due > 0
        away += disc > TOLERANCE_S
        granted += incident
        who = {"candidate_id": row.get("id"), "centre": row.get("centre")}
        if due > 0 and other < due - TOLERANCE_S:
            missing.append({**who, "planned_due_s": due, "extra_time_s": extra})
        if incident + max(0.0, other - due) < disc - TOLERANCE_S:
            short.append({**who, "disconnected_s": disc, "incident_extra_s": incident})
    findings.update(
        checked=len(rows),
        with_planned=planned,
        disconnected=away,
        incident_granted_s=granted,
        planned_missing=_finding(missing),
        disconnected_not_covered=_finding(short),
    )
    return findings


def _finding(items: list[dict[str, Any]]) -> dict[str, Any]:
    by_centre = Counter(str(i["centre"]) for i in items)
    return {"count": len(items), "by_centre": dict(by_centre), "examples": items[:EXAMPLES]}


def combine(per_unit: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """One set of findings for the run's units (each unit's under ``units``): counts
    summed, a unit that could not be checked named in ``error``."""
    if len(per_unit) == 1:
        return dict(next(iter(per_unit.values())))
    out: dict[str, Any] = {"unit_id": ", ".join(per_unit), "units": dict(per_unit), "error": None}
    errors = [f"{uid}: {f['error']}" for uid, f in per_unit.items() if f.get("error")]
    if errors:
        out["error"] = "; ".join(errors)
    fine = {uid: f for uid, f in per_unit.items() if not f.get("error")}
    for key in ("checked", "with_planned", "disconnected", "incident_granted_s"):
        out[key] = sum(f.get(key, 0) for f in fine.values())
    for key in ("planned_missing", "disconnected_not_covered"):
        found = {uid: f[key] for uid, f in fine.items() if key in f}
        items = list(found.values())
        by: Counter[str] = Counter()
        for item in items:
            by.update(item.get("by_centre") or {})
        examples = [
            {**e, "unit_id": uid} for uid, item in found.items() for e in item.get("examples", [])
        ]
        out[key] = {
            "count": sum(int(i.get("count", 0)) for i in items),
            "by_centre": dict(by),
            "examples": examples[:EXAMPLES],
        }
    return out
