"""After the unit: the jury's procès-verbal, per unit, per centre and national.

Two sources, merged: the server's ``/jury/incidents`` answer (authoritative: it reads
the audit log; incidents are *episodes* rebuilt from its connection rows, so an
incident that ended an hour ago is still reported) and the feed's rows (candidates
per centre, reconnects). Every value is rendered here, once, as the juror reads it:
French headers, exam-zone times, durations, causes in words; the page, the CSV and
the printable HTML and the PDF show the same table. A unit's procès-verbal keeps what
belongs to that unit: its incidents and grants, the events that name it, and what
happened between its launch and its close (logins, fraud alerts).
"""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from supervision_dashboard.clock import stamp
from supervision_dashboard.i18n import t
from supervision_dashboard.report_items import cause_text as cause_text
from supervision_dashboard.report_items import event_details as event_details
from supervision_dashboard.report_items import kind_text as kind_text
from supervision_dashboard.report_items import num as _num
from supervision_dashboard.report_items import render_episode as _episode
from supervision_dashboard.report_items import render_event as _event
from supervision_dashboard.report_items import render_extra as _extra
from supervision_dashboard.report_items import render_fraud as _fraud
from supervision_dashboard.rows import duration
from vigie.protocol import AuditKind

SECTIONS = ("incidents", "extra_time", "events", "fraud_alerts")
SECTION_TITLES = {
    "incidents": "report_incidents",
    "extra_time": "report_extra",
    "events": "report_events",
    "fraud_alerts": "report_fraud",
}
SUMMARY = (
    "centre",
    "candidates",
    "incidents",
    "unfinished",
    "time_disconnected",
    "reconnects",
    "extra_centre",
    "extra_candidates",
    "candidate_pauses",
    "times_ended",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "incidents": ("candidate_id", "centre", "unit_id", "start", "end", "duration", "cause"),
    "extra_time": ("ts", "unit_id", "target", "duration", "reason", "actor"),
    "events": ("ts", "kind", "centre", "actor", "details"),
    "fraud_alerts": ("ts", "candidate_id", "centre", "path"),
}


def header(column: str, lang: str) -> str:
    return t(f"pv_{column}", lang)


@dataclass
class Report:
    centre: str | None  # None: national
    generated_at: float
    lang: str = "fr"
    sections: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    per_centre: list[dict[str, str]] = field(default_factory=list)
    unit: str | None = None  # None: every unit of the day
    units: list[str] = field(default_factory=list)  # the units the server's material names
    launched_at: float | None = None  # the unit's launch, close and national end
    closed_at: float | None = None
    deadline: float | None = None
    jurors: list[str] = field(default_factory=list)  # who acted (the signature block's names)

    @property
    def name(self) -> str:
        """The document's file name, without extension."""
        return "-".join(["proces-verbal", self.unit or "journee", self.centre or "national"])


@dataclass(frozen=True, slots=True)
class _Window:
    """What belongs to one unit: its own items, and the rest by time."""

    unit: str | None
    start: float | None = None
    end: float | None = None

    def holds(self, item: Mapping[str, Any]) -> bool:
        if self.unit is None:
            return True
        data = item.get("data")
        named = item.get("unit_id") or (data.get("unit_id") if isinstance(data, Mapping) else None)
        if named is not None:
            return bool(named == self.unit)
        ts = _num(item.get("ts"))
        return (
            ts is not None
            and self.start is not None
            and ts >= self.start
            and (self.end is None or ts <= self.end)
        )


def units_of(answer: Mapping[str, Any]) -> list[str]:
    """The units the material names, in the order they were launched (then the others)."""
    seen: dict[str, None] = {}
    for e in _items(answer, "events", None):
        data = e.get("data")
        if e.get("kind") == "launch" and isinstance(data, Mapping) and data.get("unit_id"):
            seen[str(data["unit_id"])] = None
    for name in ("episodes", "extra_time"):
        for item in _items(answer, name, None):
            if item.get("unit_id"):
                seen.setdefault(str(item["unit_id"]), None)
    return list(seen)


def _unit_events(answer: Mapping[str, Any], unit: str, kind: str) -> list[Mapping[str, Any]]:
    out = []
    for e in _items(answer, "events", None):
        data = e.get("data")
        if e.get("kind") == kind and isinstance(data, Mapping) and data.get("unit_id") == unit:
            out.append(e)
    return out


def _window(answer: Mapping[str, Any], unit: str | None) -> tuple[_Window, float | None]:
    """The unit's window, and its national deadline as the launch gave it."""
    if unit is None:
        return _Window(None), None
    launches = _unit_events(answer, unit, "launch")
    closes = _unit_events(answer, unit, "close")
    start = _num(launches[-1].get("ts")) if launches else None
    end = _num(closes[-1].get("ts")) if closes else None
    data = launches[-1].get("data") if launches else None
    deadline = _num(data.get("deadline")) if isinstance(data, Mapping) else None
    return _Window(unit, start, end), deadline


def _jurors(items: Iterable[Mapping[str, Any]]) -> list[str]:
    names = {
        str(i.get("actor")).removeprefix("jury:")
        for i in items
        if str(i.get("actor") or "").startswith("jury:")
    }
    return sorted(names)


def _mine(item: Mapping[str, Any], centre: str | None) -> bool:
    return centre is None or item.get("centre") in (None, centre)


def _items(answer: Mapping[str, Any], name: str, centre: str | None) -> list[Mapping[str, Any]]:
    items = answer.get(name) or []
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, Mapping) and _mine(i, centre)]


_RENDER = {"incidents": _episode, "extra_time": _extra, "events": _event, "fraud_alerts": _fraud}
_SOURCE = {
    "incidents": "episodes",
    "extra_time": "extra_time",
    "events": "events",
    "fraud_alerts": "fraud_alerts",
}


def build_report(
    server_answer: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    centre: str | None,
    now: float,
    lang: str = "fr",
    unit: str | None = None,
) -> Report:
    window, deadline = _window(server_answer, unit)
    kept = {
        name: [i for i in _items(server_answer, _SOURCE[name], centre) if window.holds(i)]
        for name in SECTIONS
    }
    sections = {name: [_RENDER[name](i, lang) for i in kept[name]] for name in SECTIONS}
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        code = str(row.get("centre", ""))
        if centre is None or code == centre:
            per[code]["candidates"] += 1
            per[code]["reconnects"] += int(row.get("reconnects") or 0)
    for ep in kept["incidents"]:
        agg = per[str(ep.get("centre") or "")]
        agg["incidents"] += 1
        agg["unfinished"] += 1 if ep.get("unfinished") else 0
        agg["time_disconnected"] += _num(ep.get("duration_s")) or 0.0
    for e in kept["events"]:
        if e.get("kind") == AuditKind.CANDIDATE_PAUSE:
            per[str(e.get("centre") or "")]["candidate_pauses"] += 1
    for item in kept["extra_time"]:
        agg = per[str(item.get("centre") or "")]
        if (_num(item.get("seconds")) or 0.0) < 0:
            agg["times_ended"] += 1  # time taken, not given: not an extra time grant
        elif item.get("candidate_id"):
            agg["extra_candidates"] += 1
        else:
            agg["extra_centre"] += _num(item.get("seconds")) or 0.0
    summary = [
        {
            "centre": code,
            "candidates": str(int(agg["candidates"])),
            "incidents": str(int(agg["incidents"])),
            "unfinished": str(int(agg["unfinished"])),
            "time_disconnected": duration(agg["time_disconnected"], lang),
            "reconnects": str(int(agg["reconnects"])),
            "extra_centre": duration(agg["extra_centre"], lang) if agg["extra_centre"] else "",
            "extra_candidates": str(int(agg["extra_candidates"])),
            "times_ended": str(int(agg["times_ended"])),
            "candidate_pauses": str(int(agg["candidate_pauses"])),
        }
        for code, agg in sorted(per.items())
        if code
    ]
    return Report(
        centre,
        now,
        lang,
        sections,
        summary,
        unit=unit,
        units=units_of(server_answer),
        launched_at=window.start,
        closed_at=window.end,
        deadline=deadline,
        jurors=_jurors([*kept["events"], *kept["extra_time"]]),
    )


def heading(report: Report, lang: str | None = None) -> tuple[str, list[str]]:
    """The document's title and the lines under it (unit, launch, close, when generated)."""
    lang = lang or report.lang
    scope = report.centre or t("national", lang)
    title = f"{t('report_title', lang)} — {scope}"
    lines = []
    if report.unit is not None:
        title += f" — {t('pv_unit_id', lang)} {report.unit}"
        lines.append(
            t(
                "pv_unit_times",
                lang,
                launch=stamp(report.launched_at) if report.launched_at else "—",
                deadline=stamp(report.deadline) if report.deadline else "—",
                close=stamp(report.closed_at) if report.closed_at else t("pv_not_closed", lang),
            )
        )
    else:
        lines.append(t("pv_all_units", lang, units=", ".join(report.units) or "—"))
    lines.append(f"{t('pv_generated', lang)} : {stamp(report.generated_at)}")
    return title, lines


def to_csv(report: Report) -> str:
    lang = report.lang
    buf = io.StringIO()
    writer = csv.writer(buf)
    scope = ["# scope", report.centre or "national", t("pv_generated", lang)]
    writer.writerow([*scope, stamp(report.generated_at)])
    title, lines = heading(report)
    writer.writerow(["# " + title, *lines[:-1]])
    writer.writerow(["section", *(header(c, lang) for c in SUMMARY)])
    for agg in report.per_centre:
        writer.writerow(["summary", *(agg[c] for c in SUMMARY)])
    for name in SECTIONS:
        cols = COLUMNS[name]
        writer.writerow(["section", *(header(c, lang) for c in cols)])
        for item in report.sections.get(name) or []:
            writer.writerow([name, *(item.get(c, "") for c in cols)])
    return buf.getvalue()


def _table(items: list[dict[str, str]], cols: tuple[str, ...], lang: str) -> str:
    if not items:
        return f"<p>{html.escape(t('empty', lang))}</p>"
    head = "".join(f"<th>{html.escape(header(c, lang))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(item.get(c, ''))}</td>" for c in cols) + "</tr>"
        for item in items
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(report: Report, lang: str | None = None) -> str:
    lang = lang or report.lang
    title, lines = heading(report, lang)
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin-bottom:1.5em}td,th{border:1px solid #888;padding:3px 6px;font-size:12px}"
        ".sign td{height:3em;min-width:14em}@media print{a{display:none}}</style>",
        f"</head><body><h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(line)}</p>" for line in lines),
        f"<h2>{html.escape(t('pv_summary', lang))}</h2>",
        _table(report.per_centre, SUMMARY, lang),
    ]
    for name in SECTIONS:
        parts.append(f"<h2>{html.escape(t(SECTION_TITLES[name], lang))}</h2>")
        parts.append(_table(report.sections.get(name) or [], COLUMNS[name], lang))
    sign = html.escape(t("pv_signatures", lang))
    cells = "".join(
        f"<th>{html.escape(t(k, lang))}</th>" for k in ("pv_member", "pv_quality", "pv_signature")
    )
    named = "".join(f"<tr><td>{html.escape(n)}</td><td></td><td></td></tr>" for n in report.jurors)
    blank = named + "<tr><td></td><td></td><td></td></tr>" * 3
    parts.append(f"<h2>{sign}</h2><table class='sign'><tr>{cells}</tr>{blank}</table>")
    parts.append("</body></html>")
    return "".join(parts)
