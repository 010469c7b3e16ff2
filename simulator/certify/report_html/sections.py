"""The report's sections in words and tables: the banner and its reasons, the waves against
their objectives, the injected faults, and the run's details.

Everything from the record is escaped here: scenario names, notes and reasons are text.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from simulator.certify.faults import label
from simulator.certify.judge import SloResult
from simulator.certify.report_html import charts
from simulator.certify.slo import SloKind
from simulator.certify.verdict import Verdict
from simulator.run.correction import describe


def banner(v: Verdict) -> str:
    sub = [f"{v.max_connected:,} of {v.planned_tablets:,} planned tablets connected at peak"]
    if not v.ran:
        sub = ["not run: start a server that matches the scenario (vigie serve --scenario)"]
    if v.knee is not None:
        sub.append(f"knee at t = {clock(v.knee.t)} · cause: {v.knee.cause.value}")
    if v.generator.bound:
        sub.append("generator-bound run: not a measure of the platform")
    elif v.measurement_breaks and v.knee is None:
        sub.append("the test setup, not the platform, broke the SLOs: see below")
    return (
        f'<div class="banner {v.verdict}">{html.escape(v.headline)}'
        f"<small>{html.escape(' · '.join(sub))}</small></div>"
    )


def reasons(v: Verdict) -> str:
    if not v.reasons:
        return (
            '<div class="reasons"><p>Every wave met every objective, the whole planned fleet '
            "connected, and the load generator stayed within its CPU budget.</p></div>"
        )
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in v.reasons)
    return f'<div class="reasons"><p>Why it is not certified:</p><ul>{items}</ul></div>'


def wave_table(v: Verdict) -> str:
    head = "".join(f"<th>{html.escape(s.describe())}</th>" for s in v.slos)
    rows = []
    for j in v.waves:
        w = j.wave
        cells = "".join(_slo_cell(j.results[s.name]) for s in v.slos)
        verdict = '<td class="ok">pass</td>' if j.passed else '<td class="ko">fail</td>'
        rows.append(
            f'<tr><td class="name">{html.escape(_wave_label(w.number, w.name))}</td>'
            f'<td title="{html.escape(", ".join(w.centres))}">{len(w.centres)}</td>'
            f"<td>{w.planned_tablets:,}</td><td>{clock(w.started_at)}</td>{cells}{verdict}</tr>"
        )
    return (
        '<table><thead><tr><th class="name">wave</th><th>centres</th><th>tablets</th>'
        f"<th>start</th>{head}<th>result</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _wave_label(number: int, name: str) -> str:
    return name if name.strip().lower() == f"wave {number}" else f"{number}. {name}"


def _slo_cell(result: SloResult) -> str:
    if result.value is None:
        return '<td class="na">–</td>'
    if result.slo.kind is SloKind.LATENCY:
        text = f"{result.value:,.0f} ms"
    else:
        text = f"{result.value:.2%}"
    css, mark = ("ok", "✓") if result.passed else ("ko", "✗")
    return f'<td class="{css}" title="{result.basis:,} operations">{text} {mark}</td>'


def run_details(v: Verdict) -> str:
    r = v.record
    duration = r.duration_s()
    rows = {
        "scenario": f"{r.scenario} ({r.scenario_path})",
        "target": r.target,
        "started": utc(r.started_at),
        "duration": "unfinished" if duration is None else clock(duration),
        "server knobs": ", ".join(f"{k}={val}" for k, val in r.server_knobs.items()) or "none",
        "connection cap": "none" if v.connection_cap is None else f"{v.connection_cap:,.0f}",
        "generator CPU": f"peak {v.generator.peak_cpu:.0%} of a core (limit {v.generator.limit:.0%})",
        "generator memory": _generator_memory(v),
    }
    items = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(val))}</dd>" for k, val in rows.items()
    )
    items += _results(r.checks.get("correction"))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in r.notes)
    return f"<dl>{items}</dl>" + (f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "")


def _results(found: Any) -> str:
    """The correction at the end of a rehearsal (simulator.run.correction), linked."""
    if not isinstance(found, dict):
        return ""
    text = html.escape(describe(found))
    if not found.get("error") and found.get("results"):
        link = html.escape(str(found["results"]), quote=True)
        text += f' (<a href="{link}">the ranking</a>)'
    return f"<dt>results</dt><dd>{text}</dd>"


def _generator_memory(v: Verdict) -> str:
    g = v.generator
    if g.peak_rss_mb is None:
        return "not measured"
    text = f"peak {g.peak_rss_mb:,.0f} MiB, all generator processes together"
    if g.rss_per_tablet_kib is not None:
        text += f" ({g.rss_per_tablet_kib:,.0f} KiB per tablet, {g.tablets_at_rss_peak:,} tablets)"
    return text


def faults_section(v: Verdict) -> list[str]:
    """The injected faults: applied or not, and how the platform came through each."""
    runs = v.record.faults
    if not runs:
        return []

    def cell(value: float | int | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:,.0f}{unit}"

    rows = "".join(
        "<tr>"
        f"<td>{html.escape(label(f))}</td>"
        f"<td>{html.escape(f.how if f.applied else f.how or 'not applied')}</td>"
        f"<td>{cell(f.affected_tablets)}</td>"
        f"<td>{cell(f.detected_after_s, ' s')}"
        + (f" (max {f.detection_s_max:g} s)" if f.detection_s_max is not None else "")
        + f"</td><td>{cell(f.recovered_after_s, ' s')}"
        + (f" (max {f.recovery_s_max:g} s)" if f.recovery_s_max is not None else "")
        + f"</td><td>{cell(f.answers_queued_offline)}</td>"
        f"<td>{cell(f.answers_lost)}</td>"
        "</tr>"
        for f in runs
    )
    table = (
        "<table><tr><th>fault</th><th>applied</th><th>affected tablets</th>"
        "<th>seen by the supervision after</th><th>back (99%) after its end</th>"
        "<th>answers queued offline</th><th>answers lost</th></tr>" + rows + "</table>"
    )
    return ["<h2>Injected faults</h2>", table, charts.embed(charts.faults(v))]


def clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
