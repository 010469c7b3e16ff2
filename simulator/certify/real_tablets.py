"""The centres left to real tablets (``record.real_tablets``): reported, never judged.

The fleet does not control a faculty's iPads or its WiFi: their figures are what the
rehearsal came to see, not evidence about the platform's capacity, so they stay out
of the verdict (and the simulated fleet's figures never include them).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from simulator.record import RealCentreRun

NOT_JUDGED = (
    "Reported, not judged: the capacity verdict rests on the simulated fleet alone, whose "
    "waves, SLOs and reconciliation leave these centres' candidates out."
)


def to_json(runs: Sequence[RealCentreRun]) -> dict[str, Any] | None:
    """The report's ``real_tablets`` section (None: the scenario has no real centre)."""
    if not runs:
        return None
    return {
        "judged": False,
        "note": NOT_JUDGED,
        "centres": [r.to_json() for r in runs],
        "warnings": [w for r in runs for w in r.warnings],
    }


_COLUMNS = (
    ("expected", "expected"),
    ("logged_in", "logged in"),
    ("connected_at_launch", "connected at the launch"),
    ("connected_at_end", "connected at the end"),
    ("reconnects", "reconnects"),
    ("disconnected_s", "time disconnected"),
    ("answers_stored", "answers stored"),
    ("finished", "finished"),
)


def html_section(runs: Sequence[RealCentreRun]) -> list[str]:
    """The section for report.html (nothing when the scenario has no real centre)."""
    if not runs:
        return []
    head = '<th class="name">centre</th>' + "".join(f"<th>{t}</th>" for _, t in _COLUMNS)
    head += '<th class="name">incidents (candidates)</th>'
    rows = "".join(_row(r) for r in runs)
    warned = [w for r in runs for w in r.warnings] + [
        f"{r.centre}: {r.problem}" for r in runs if r.problem is not None
    ]
    parts = [
        "<h2>Real tablets</h2>",
        f"<p>{html.escape(NOT_JUDGED)}</p>",
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>",
    ]
    if warned:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warned)
        parts.append(f'<div class="reasons"><p>Warnings</p><ul>{items}</ul></div>')
    return parts


def _row(r: RealCentreRun) -> str:
    cells = [f'<td class="name">{html.escape(r.centre)}</td>']
    for key, _ in _COLUMNS:
        value = getattr(r, key)
        if r.problem is not None and key != "expected":
            cells.append('<td class="na">-</td>')
        elif key == "disconnected_s":
            cells.append(f"<td>{value:,.0f} s</td>")
        elif key == "connected_at_launch" and value < r.expected:
            cells.append(f'<td class="ko">{value:,}</td>')
        else:
            cells.append(f"<td>{value:,}</td>")
    found = ", ".join(f"{k} {n:,}" for k, n in sorted(r.incidents.items()) if n) or "none"
    cells.append(f'<td class="name">{html.escape(found if r.problem is None else "-")}</td>')
    return "<tr>" + "".join(cells) + "</tr>"
