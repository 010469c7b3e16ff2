"""The national heat-map: every candidate as one cell, grouped by centre, as a compact matrix.

A cell holds a small integer (the state's index in :data:`STATE_ORDER`), so 12,000
candidates are ~30 KB of JSON once, and each refresh after that sends only the cells
that changed (a ``dash.Patch``), which is what keeps the national view under 100 KB.
Centres are rows of :data:`WIDTH` cells; centres with incidents come first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vigie.protocol import INCIDENT_STATES, CandidateState

STATE_ORDER: tuple[CandidateState, ...] = tuple(CandidateState)
STATE_CODE: dict[str, int] = {s.value: i for i, s in enumerate(STATE_ORDER)}
INCIDENT_VALUES = frozenset(s.value for s in INCIDENT_STATES)
# Severity for sorting: lost, then unfinished at the close, then late, then the rest.
SEVERITY: dict[str, int] = {
    CandidateState.LOST.value: 0,
    CandidateState.UNFINISHED.value: 1,
    CandidateState.LATE.value: 2,
    CandidateState.PAUSED.value: 3,
    CandidateState.NOT_CONNECTED.value: 4,
}

# Okabe-Ito based: distinguishable with the common colour-vision deficiencies (no red
# next to green); the legend and the grid's state names carry the meaning anyway.
COLOURS: dict[str, str] = {
    "not_connected": "#d9d9d9",
    "waiting": "#a6cee3",
    "in_progress": "#0072b2",
    "late": "#f0e442",
    "lost": "#d55e00",
    "paused": "#cc79a7",
    "finished": "#009e73",
    "unfinished": "#1a1a1a",
}
WIDTH = 100  # cells per heat-map row
# Up to this many cells, each carries its candidate id for the hover (a national
# matrix would cost ~200 KB of labels: there a click opens the candidate).
HOVER_MAX_CELLS = 3000


@dataclass(frozen=True, slots=True)
class Grid:
    key: tuple[Any, ...]  # same key => same shape and same candidate in every cell
    z: list[list[int | None]]
    ids: list[list[str | None]]
    ticks: list[tuple[float, str]]  # (row, centre code) labels, one per centre


def is_incident(row: Mapping[str, Any]) -> bool:
    return row.get("state") in INCIDENT_VALUES


def build_grid(
    rows: Iterable[Mapping[str, Any]],
    only_incidents: bool = False,
    order: Sequence[str] | None = None,
) -> Grid:
    """The matrix; ``order`` pins the centre order (centres not in it follow, sorted)."""
    by_centre: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    incidents: dict[str, int] = defaultdict(int)
    for row in rows:
        centre = str(row.get("centre", ""))
        if is_incident(row):
            incidents[centre] += 1
        elif only_incidents:
            continue
        by_centre[centre].append(row)
    # Narrow rows for a small exam (a rehearsal), WIDTH cells for a national one.
    width = max(10, min(WIDTH, max((len(m) for m in by_centre.values()), default=0)))
    ranked = sorted(by_centre, key=lambda c: (-incidents[c], c))
    if order is not None:
        pinned = [c for c in order if c in by_centre]
        ranked = pinned + [c for c in ranked if c not in set(pinned)]
    z: list[list[int | None]] = []
    ids: list[list[str | None]] = []
    ticks: list[tuple[float, str]] = []
    shape: list[tuple[str, int]] = []
    for centre in ranked:
        members = sorted(by_centre[centre], key=lambda r: str(r["id"]))
        start = len(z)
        for i in range(0, len(members), width):
            chunk = members[i : i + width]
            pad = width - len(chunk)
            z.append([STATE_CODE.get(str(r.get("state")), 0) for r in chunk] + [None] * pad)
            ids.append([str(r["id"]) for r in chunk] + [None] * pad)
        ticks.append((start + (len(z) - start - 1) / 2, centre))
        shape.append((centre, len(members)))
    key: tuple[Any, ...] = (only_incidents, tuple(shape))
    if only_incidents:
        # Membership changes without changing sizes: the ids are part of the shape.
        key += (tuple(i for line in ids for i in line if i),)
    return Grid(key, z, ids, ticks)


def diff_cells(
    old: list[list[int | None]], new: list[list[int | None]]
) -> list[tuple[int, int, int | None]]:
    """Cells that differ between two matrices of the same shape."""
    out: list[tuple[int, int, int | None]] = []
    for r, (a, b) in enumerate(zip(old, new, strict=True)):
        if a != b:
            out.extend((r, c, v) for c, (u, v) in enumerate(zip(a, b, strict=True)) if u != v)
    return out


def colorscale() -> list[tuple[float, str]]:
    """A discrete scale: code i fills [i/n, (i+1)/n] with its state's colour."""
    n = len(STATE_ORDER)
    scale: list[tuple[float, str]] = []
    for i, state in enumerate(STATE_ORDER):
        scale += [(i / n, COLOURS[state.value]), ((i + 1) / n, COLOURS[state.value])]
    return scale


def figure(
    grid: Grid, title: str = "", labels: Sequence[str] | None = None, empty_text: str = ""
) -> dict[str, Any]:
    """A plain-dict plotly figure (no graph_objects: validation would cost ~100 ms at 12k).

    ``labels`` name the states in the legend (the colour bar), in the juror's language;
    ``empty_text`` stands in the middle of an empty matrix (nothing to show is news too).
    """
    rows = max(len(grid.z), 1)
    n = len(STATE_ORDER)
    trace: dict[str, Any] = {
        "type": "heatmap",
        "z": grid.z,
        "zmin": -0.5,
        "zmax": n - 0.5,
        "colorscale": colorscale(),
        "showscale": labels is not None,
        "xgap": 1,
        "ygap": 1,
        "hoverinfo": "none",
    }
    if labels is not None:
        trace["colorbar"] = {
            "tickvals": list(range(n)),
            "ticktext": list(labels),
            "thickness": 14,
            "len": 1,
            "lenmode": "fraction",
            "outlinewidth": 0,
            "tickfont": {"size": 11},
        }
    cells = sum(len(line) for line in grid.z)
    if 0 < cells <= HOVER_MAX_CELLS:
        trace["text"] = grid.ids
        trace["hovertemplate"] = "%{text}<extra></extra>"
        trace.pop("hoverinfo")
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "height": max(220, min(1400, rows * 7 + 60)),
        "margin": {"l": 110, "r": 10, "t": 30 if title else 10, "b": 10},
        "xaxis": {"visible": False, "fixedrange": True},
        "yaxis": {
            "autorange": "reversed",
            "tickvals": [r for r, _ in grid.ticks],
            "ticktext": [c for _, c in grid.ticks],
            "tickfont": {"size": 9},
            "fixedrange": True,
            "showgrid": False,
            "zeroline": False,
        },
        "plot_bgcolor": "#ffffff",
        "uirevision": "keep",
    }
    if not cells and empty_text:
        layout["yaxis"]["visible"] = False
        layout["annotations"] = [
            {
                "text": empty_text,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 16, "color": "#556"},
            }
        ]
    return {"data": [trace], "layout": layout}
