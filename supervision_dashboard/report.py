"""After the unit: the material of the jury's procès-verbal, per centre and national.

Two sources, merged: the server's ``/jury/incidents`` answer (authoritative: it reads
the audit log) and the feed's rows (time each tablet spent disconnected, reconnects,
extra time), so that the report still says something useful if the server's answer
is terse. Exported as CSV (one table, a ``section`` column) and printable HTML.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from supervision_dashboard.i18n import t

SECTIONS = ("incidents", "extra_time", "events", "fraud_alerts")
SECTION_TITLES = {
    "incidents": "report_incidents",
    "extra_time": "report_extra",
    "events": "report_events",
    "fraud_alerts": "report_fraud",
}


@dataclass
class Report:
    centre: str | None  # None: national
    generated_at: float
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    per_centre: list[dict[str, Any]] = field(default_factory=list)


def _field(key: str, value: Any) -> Any:
    # Server timestamps are unix seconds: the procès-verbal needs a readable UTC time.
    if key in {"ts", "paused_at", "resumed_at", "granted_at"} and isinstance(value, int | float):
        return _iso(float(value))
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, dict | list):
        return (
            ", ".join(f"{k}={v}" for k, v in value.items())
            if isinstance(value, dict)
            else ", ".join(map(str, value))
        )
    return value


def build_report(
    server_answer: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    centre: str | None,
    now: float,
) -> Report:
    sections: dict[str, list[dict[str, Any]]] = {}
    for name in SECTIONS:
        items = server_answer.get(name) or []
        if isinstance(items, list):
            sections[name] = [
                {k: _field(k, v) for k, v in item.items()}
                for item in items
                if isinstance(item, dict)
                and (centre is None or item.get("centre") in (None, centre))
            ]
    per: dict[str, dict[str, Any]] = {}
    for row in rows:
        code = str(row.get("centre", ""))
        if centre is not None and code != centre:
            continue
        agg = per.setdefault(
            code,
            {
                "centre": code,
                "candidates": 0,
                "disconnected": 0,
                "disconnected_s": 0.0,
                "reconnects": 0,
                "extra_time_s": 0.0,
            },
        )
        agg["candidates"] += 1
        gone = float(row.get("disconnected_s") or 0)
        if gone > 0:
            agg["disconnected"] += 1
            agg["disconnected_s"] += gone
        agg["reconnects"] += int(row.get("reconnects") or 0)
        agg["extra_time_s"] += float(row.get("extra_time_s") or 0)
    for agg in per.values():
        agg["disconnected_s"] = round(agg["disconnected_s"])
        agg["extra_time_s"] = round(agg["extra_time_s"])
    return Report(centre, now, sections, sorted(per.values(), key=lambda a: a["centre"]))


def to_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(
        ["# scope", report.centre or "national", "generated_at", _iso(report.generated_at)]
    )
    if report.per_centre:
        cols = list(report.per_centre[0])
        writer.writerow(["section", *cols])
        for agg in report.per_centre:
            writer.writerow(["summary", *(agg[c] for c in cols)])
    for name in SECTIONS:
        items = report.sections.get(name) or []
        cols = sorted({k for item in items for k in item})
        writer.writerow(["section", *cols])
        for item in items:
            writer.writerow([name, *(item.get(c, "") for c in cols)])
    return buf.getvalue()


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _table(items: list[dict[str, Any]], lang: str) -> str:
    if not items:
        return f"<p>{html.escape(t('empty', lang))}</p>"
    cols = list(dict.fromkeys(k for item in items for k in item))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(str(_cell(c, item.get(c, ''))))}</td>" for c in cols)
        + "</tr>"
        for item in items
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(col: str, value: Any) -> Any:
    if col in {"ts", "granted_at", "at"} and isinstance(value, int | float):
        return _iso(float(value))
    return value


def to_html(report: Report, lang: str = "fr") -> str:
    scope = report.centre or t("national", lang)
    title = f"{t('report_title', lang)} — {scope}"
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #888;padding:3px 6px;font-size:12px}@media print{a{display:none}}</style>",
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(_iso(report.generated_at))}</p>",
        f"<h2>{html.escape(t('centre', lang))}</h2>",
        _table(report.per_centre, lang),
    ]
    for name in SECTIONS:
        parts.append(f"<h2>{html.escape(t(SECTION_TITLES[name], lang))}</h2>")
        parts.append(_table(report.sections.get(name) or [], lang))
    parts.append("</body></html>")
    return "".join(parts)
