"""A small, deterministic builder for Grafana dashboard JSON (schema 39, Grafana 10/11).

Why our own and not grafana-foundation-sdk: the Python SDK on PyPI is alpha, versioned by
a timestamp epoch and pinned to one Grafana minor; the handful of panel kinds these boards
need fit in this module, and its output is plain JSON that reviewers read in the diff.
Every panel queries the ``$datasource`` variable so that the boards work on any Grafana.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

SCHEMA_VERSION = 39
DATASOURCE: JSON = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH = 24
PANEL_HEIGHT = 8


@dataclass(frozen=True, slots=True)
class Query:
    expr: str
    legend: str = "__auto"
    instant: bool = False


@dataclass(slots=True)
class Panel:
    """One panel before layout: ``width`` is in grid columns (24 per line)."""

    kind: str
    title: str
    queries: list[Query]
    description: str = ""
    unit: str = "short"
    width: int = 8
    height: int = PANEL_HEIGHT
    min: float | None = None
    max: float | None = None
    thresholds: list[tuple[float, str]] = field(default_factory=list)
    stacked: bool = False
    options: JSON = field(default_factory=dict)


@dataclass(slots=True)
class Row:
    title: str
    panels: list[Panel]


def timeseries(title: str, *queries: Query, **kw: Any) -> Panel:
    return Panel("timeseries", title, list(queries), **kw)


def stat(title: str, *queries: Query, **kw: Any) -> Panel:
    kw.setdefault("width", 4)
    kw.setdefault("height", 4)
    return Panel("stat", title, list(queries), **kw)


def gauge(title: str, *queries: Query, **kw: Any) -> Panel:
    kw.setdefault("width", 4)
    return Panel("gauge", title, list(queries), **kw)


def bargauge(title: str, *queries: Query, **kw: Any) -> Panel:
    return Panel("bargauge", title, list(queries), **kw)


def query_variable(name: str, label: str, query: str, *, multi: bool = True) -> JSON:
    """A label_values variable; "All" matches with ``.+`` so that regex matchers stay valid."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-var"},
        "definition": query,
        "refresh": 2,
        "sort": 1,
        "multi": multi,
        "includeAll": True,
        "allValue": ".+",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "hide": 0,
    }


def _datasource_variable() -> JSON:
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
    }


def _field_config(panel: Panel) -> JSON:
    steps: list[JSON] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    defaults: JSON = {
        "unit": panel.unit,
        "thresholds": {"mode": "absolute", "steps": steps},
        "color": {"mode": "thresholds" if panel.kind != "timeseries" else "palette-classic"},
    }
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 10 if panel.stacked else 0,
            "showPoints": "never",
            "stacking": {"mode": "normal" if panel.stacked else "none", "group": "A"},
            # Threshold lines show the cap or SLO right on the graph.
            "thresholdsStyle": {"mode": "line" if panel.thresholds else "off"},
        }
    return {"defaults": defaults, "overrides": []}


def _options(panel: Panel) -> JSON:
    if panel.kind == "timeseries":
        base: JSON = {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "bargauge":
        base = {"orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True}
    else:
        base = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    base.update(panel.options)
    return base


def _targets(panel: Panel) -> list[JSON]:
    return [
        {
            "datasource": DATASOURCE,
            "expr": q.expr,
            "legendFormat": q.legend,
            "instant": q.instant,
            "range": not q.instant,
            "refId": chr(ord("A") + i),
        }
        for i, q in enumerate(panel.queries)
    ]


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    rows: list[Row],
    variables: list[JSON],
    tags: tuple[str, ...] = ("vigie",),
) -> JSON:
    """Lay rows out top to bottom, panels left to right, wrapping at 24 columns."""
    panels: list[JSON] = []
    next_id = 1
    y = 0
    for row in rows:
        panels.append(
            {
                "type": "row",
                "id": next_id,
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        x = 0
        line_height = 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            panels.append(
                {
                    "type": panel.kind,
                    "id": next_id,
                    "title": panel.title,
                    "description": panel.description,
                    "datasource": DATASOURCE,
                    "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
                    "fieldConfig": _field_config(panel),
                    "options": _options(panel),
                    "targets": _targets(panel),
                }
            )
            next_id += 1
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": list(tags),
        "editable": True,
        "graphTooltip": 1,  # shared crosshair: line server and load up in time
        "refresh": "10s",
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": "now-30m", "to": "now"},
        "timezone": "browser",
        "templating": {"list": [_datasource_variable(), *variables]},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["vigie"],
                "asDropdown": True,
                "title": "vigie",
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "panels": panels,
        "version": 1,
    }


def dumps(board: JSON) -> str:
    """Stable text: sorted keys and a final newline, so the committed JSON diffs cleanly."""
    return json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
