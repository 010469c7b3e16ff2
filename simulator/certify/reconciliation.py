"""The reconciliation in the verdict: an acknowledged answer that the server does not hold
fails the certification, whatever the SLOs say (the first question a jury asks after an
incident). Used by :mod:`.verdict` (reasons, headline) and :mod:`.report_html` (a section).
"""

from __future__ import annotations

import html

from simulator.record import Reconciliation


def _answers(n: int) -> str:
    return f"{n:,} acknowledged answer{'s' if n != 1 else ''}"


def reasons(rec: Reconciliation | None) -> list[str]:
    """Why the reconciliation fails the run (none when it was not done: an older record)."""
    if rec is None:
        return []
    if rec.problem is not None:
        return [f"the answers could not be reconciled: {rec.problem}"]
    out = []
    if rec.lost:
        out.append(
            f"{_answers(rec.lost)} of {rec.acked:,} are not on the server (lost after the "
            "server acknowledged them)"
        )
    if rec.mismatched:
        out.append(
            f"{_answers(rec.mismatched)} of {rec.acked:,} are on the server with another value"
        )
    return out


def headline(rec: Reconciliation | None, current: str, alone: bool) -> str:
    """The banner: lost or mismatched answers explain the verdict before anything else (the
    other cause kept after it); a reconciliation impossible only when nothing else failed."""
    if rec is None:
        return current
    if rec.problem is not None:
        return "Not certified: the answers could not be reconciled" if alone else current
    parts = []
    if rec.lost:
        verb = "is" if rec.lost == 1 else "are"
        parts.append(f"{_answers(rec.lost)} {verb} not on the server")
    if rec.mismatched:
        verb = "has" if rec.mismatched == 1 else "have"
        parts.append(f"{_answers(rec.mismatched)} {verb} another value on the server")
    if not parts:
        return current
    text = "Failed: " + " and ".join(parts)
    return text if alone else f"{text} (also {current[:1].lower()}{current[1:]})"


def html_section(rec: Reconciliation | None) -> str:
    """A short section: the counts, the problem, a few examples."""
    if rec is None:
        return "<p>No reconciliation in this run record.</p>"
    if rec.problem is not None:
        return f'<div class="reasons"><p>{html.escape(rec.problem)}</p></div>'
    cells = [
        ("acknowledged", rec.acked, False),
        ("on the server", rec.stored, False),
        ("lost", rec.lost, rec.lost > 0),
        ("another value", rec.mismatched, rec.mismatched > 0),
        ("pending at the end", rec.pending, False),
    ]
    head = "".join(f"<th>{name}</th>" for name, _, _ in cells)
    row = "".join(
        f'<td class="{"ko" if bad else "ok" if name != "pending at the end" else "na"}">{n:,}</td>'
        for name, n, bad in cells
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody><tr>{row}</tr></tbody></table>"
    if not rec.examples:
        return table
    keys = ("problem", "centre", "candidate_id", "unit_id", "question_id", "action_id")
    ex_head = "".join(f'<th class="name">{k}</th>' for k in keys)
    ex_rows = "".join(
        "<tr>"
        + "".join(f'<td class="name">{html.escape(str(e.get(k, "")))}</td>' for k in keys)
        + "</tr>"
        for e in rec.examples
    )
    return (
        f"{table}<h3>Examples</h3><table><thead><tr>{ex_head}</tr></thead>"
        f"<tbody>{ex_rows}</tbody></table>"
    )
