"""``report.html``: the verdict for people, one self-contained file.

It is opened offline on exam-preparation day (no internet in the rooms where it is read),
so plotly's bundle is inlined once in the head and every chart uses it; nothing is
fetched from anywhere.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
from plotly.subplots import make_subplots

from simulator.certify import real_tablets, reconciliation
from simulator.certify.faults import label
from simulator.certify.judge import PERCENTILES, SloResult
from simulator.certify.report_json import _atomic_write
from simulator.certify.slo import SloKind
from simulator.certify.verdict import Verdict
from simulator.record import OP_ANSWER, OP_HEARTBEAT, OP_LOGIN, OP_WS_CONNECT, Sample
from simulator.run.correction import describe

REPORT_HTML = "report.html"
FAILURE_RATE_WINDOW_S = 5.0

_OK, _KO, _NA = "#1a7f37", "#cf222e", "#6e7781"
_PCT_COLOURS = ("#9ecae1", "#4292c6", "#08306b")  # p50, p95, p99: light to dark
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 360,
    "margin": {"l": 70, "r": 30, "t": 50, "b": 50},
    "legend": {"orientation": "h", "y": -0.2},
    "hovermode": "x unified",
}


def write_html(verdict: Verdict, report_dir: Path) -> Path:
    path = report_dir / REPORT_HTML
    _atomic_write(path, render(verdict))
    return path


def render(verdict: Verdict) -> str:
    if not verdict.ran:
        return _page(verdict, _not_run_body(verdict))
    charts = [
        _connected_chart(verdict),
        _heartbeat_chart(verdict),
        _wave_latency_chart(verdict),
        _failures_chart(verdict),
        _generator_chart(verdict),
    ]
    body = "\n".join(
        [
            _banner(verdict),
            _reasons(verdict),
            "<h2>Waves and objectives</h2>",
            _wave_table(verdict),
            "<h2>Answers reconciled</h2>",
            reconciliation.html_section(verdict.record.reconciliation),
            *_faults_section(verdict),
            *real_tablets.html_section(verdict.record.real_tablets),
            "<h2>Charts</h2>",
            *(
                f'<div class="chart">{fig.to_html(full_html=False, include_plotlyjs=False, config=_PLOT_CONFIG)}</div>'
                for fig in charts
            ),
            "<h2>Run</h2>",
            _run_details(verdict),
        ]
    )
    return _page(verdict, body)


def _plotly_script(verdict: Verdict) -> str:
    if not verdict.ran:  # no chart: no 4 MB of plotly
        return ""
    return f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>'


def _not_run_body(v: Verdict) -> str:
    """No wave started: what the target check found, and nothing that would look measured."""
    return "\n".join(
        [
            _banner(v),
            (
                '<div class="reasons"><p>No wave was started: the target check found that the '
                "server does not match the scenario.</p><ul>"
                + "".join(f"<li>{html.escape(p)}</li>" for p in v.record.target_problems)
                + "</ul></div>"
            ),
            "<h2>Run</h2>",
            _run_details(v),
        ]
    )


def _page(verdict: Verdict, body: str) -> str:
    r = verdict.record
    title = f"vigie certification: {r.scenario} ({verdict.verdict})"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
{_plotly_script(verdict)}
</head><body><main>
<p class="kicker">vigie capacity certification · {html.escape(r.scenario)} · {_utc(r.started_at)}</p>
{body}
</main></body></html>
"""


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       background: #f6f8fa; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
.kicker { color: #57606a; margin: 0 0 8px; }
.banner { border-radius: 8px; padding: 20px 24px; color: white; font-size: 1.5em;
          font-weight: 600; line-height: 1.3; }
.banner.certified { background: #1a7f37; } .banner.failed { background: #cf222e; }
.banner small { display: block; font-size: 0.6em; font-weight: 400; margin-top: 6px; opacity: .95; }
.reasons { background: white; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 24px; margin-top: 12px; }
h2 { margin-top: 32px; }
table { border-collapse: collapse; width: 100%; background: white; font-size: 0.95em; }
th, td { border: 1px solid #d0d7de; padding: 6px 10px; text-align: right; }
th { background: #eaeef2; } td.name, th.name { text-align: left; white-space: nowrap; }
td.ok { color: #1a7f37; } td.ko { color: #cf222e; font-weight: 600; background: #ffebe9; }
td.na { color: #6e7781; }
.chart { background: white; border: 1px solid #d0d7de; border-radius: 8px; margin: 12px 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: white;
     border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 24px; }
dt { color: #57606a; } dd { margin: 0; }
"""


def _banner(v: Verdict) -> str:
    sub = [f"{v.max_connected:,} of {v.planned_tablets:,} planned tablets connected at peak"]
    if not v.ran:
        sub = ["not run: start a server that matches the scenario (vigie serve --scenario)"]
    if v.knee is not None:
        sub.append(f"knee at t = {_clock(v.knee.t)} · cause: {v.knee.cause.value}")
    if v.generator.bound:
        sub.append("generator-bound run: not a measure of the platform")
    elif v.measurement_breaks and v.knee is None:
        sub.append("the test setup, not the platform, broke the SLOs: see below")
    return (
        f'<div class="banner {v.verdict}">{html.escape(v.headline)}'
        f"<small>{html.escape(' · '.join(sub))}</small></div>"
    )


def _reasons(v: Verdict) -> str:
    if not v.reasons:
        return (
            '<div class="reasons"><p>Every wave met every objective, the whole planned fleet '
            "connected, and the load generator stayed within its CPU budget.</p></div>"
        )
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in v.reasons)
    return f'<div class="reasons"><p>Why it is not certified:</p><ul>{items}</ul></div>'


def _wave_table(v: Verdict) -> str:
    head = "".join(f"<th>{html.escape(s.describe())}</th>" for s in v.slos)
    rows = []
    for j in v.waves:
        w = j.wave
        cells = "".join(_slo_cell(j.results[s.name]) for s in v.slos)
        verdict = '<td class="ok">pass</td>' if j.passed else '<td class="ko">fail</td>'
        rows.append(
            f'<tr><td class="name">{html.escape(_wave_label(w.number, w.name))}</td>'
            f'<td title="{html.escape(", ".join(w.centres))}">{len(w.centres)}</td>'
            f"<td>{w.planned_tablets:,}</td><td>{_clock(w.started_at)}</td>{cells}{verdict}</tr>"
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


def _run_details(v: Verdict) -> str:
    r = v.record
    duration = r.duration_s()
    rows = {
        "scenario": f"{r.scenario} ({r.scenario_path})",
        "target": r.target,
        "started": _utc(r.started_at),
        "duration": "unfinished" if duration is None else _clock(duration),
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


# --- charts ------------------------------------------------------------------------------
def _minutes(samples: list[Sample]) -> list[float]:
    return [s.t / 60 for s in samples]


def _samples(v: Verdict) -> list[Sample]:
    return sorted(v.record.samples, key=lambda s: s.t)


def _with_waves(fig: go.Figure, v: Verdict) -> go.Figure:
    for j in v.waves:
        fig.add_vline(
            x=j.wave.started_at / 60,
            line={"color": "#8c959f", "dash": "dot", "width": 1},
            annotation_text=f"wave {j.wave.number}",
            annotation_position="top left",
        )
    for f in v.record.faults:
        if f.started_at is None:
            continue
        end = f.ended_at if f.ended_at is not None else f.at_s + f.duration_s
        fig.add_vrect(
            x0=f.started_at / 60,
            x1=max(end, f.started_at + 1) / 60,
            fillcolor="#d4a72c",
            opacity=0.18,
            line_width=0,
            annotation_text=f.kind,
            annotation_position="bottom left",
        )
    fig.update_layout(**_LAYOUT)
    fig.update_xaxes(title_text="minutes since start")
    return fig


def _faults_section(v: Verdict) -> list[str]:
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
    fig = go.Figure()
    for f in runs:
        if f.series:
            fig.add_scatter(
                x=[p[0] / 60 for p in f.series], y=[p[1] for p in f.series], name=label(f)
            )
    fig.update_yaxes(title_text="affected tablets late or lost")
    fig.update_layout(title="Injected faults: the server's view of the affected tablets")
    chart = _with_waves(fig, v).to_html(
        full_html=False, include_plotlyjs=False, config=_PLOT_CONFIG
    )
    return ["<h2>Injected faults</h2>", table, f'<div class="chart">{chart}</div>']


def _connected_chart(v: Verdict) -> go.Figure:
    samples = _samples(v)
    x = _minutes(samples)
    fig = go.Figure()
    fig.add_scatter(x=x, y=[s.sockets_open for s in samples], name="connected tablets (fleet)")
    if any("websockets_open" in s.server for s in samples):
        fig.add_scatter(
            x=x,
            y=[s.server.get("websockets_open") for s in samples],
            name="websockets open (server)",
            line={"dash": "dash"},
        )
    fig.add_scatter(
        x=x, y=[s.users for s in samples], name="Locust users", line={"dash": "dot", "width": 1}
    )
    if v.connection_cap is not None:
        fig.add_hline(
            y=v.connection_cap,
            line={"color": _KO, "dash": "dash"},
            annotation_text=f"connection cap {v.connection_cap:,.0f}",
        )
    fig.add_hline(
        y=v.planned_tablets,
        line={"color": _NA, "width": 1},
        annotation_text=f"planned fleet {v.planned_tablets:,}",
        annotation_position="bottom right",
    )
    if v.knee is not None:
        fig.add_scatter(
            x=[v.knee.t / 60],
            y=[v.knee.connected],
            name=f"knee: {v.knee.connected:,} ({v.knee.cause.value})",
            mode="markers",
            marker={"symbol": "x", "size": 14, "color": _KO},
        )
    if v.measurement_breaks:
        fig.add_scatter(
            x=[k.t / 60 for k in v.measurement_breaks],
            y=[k.connected for k in v.measurement_breaks],
            name="SLO broken by the test setup (not the platform)",
            mode="markers",
            marker={"symbol": "circle-open", "size": 12, "color": "#bf8700", "line": {"width": 2}},
        )
    fig.update_layout(title="Connected tablets over time")
    fig.update_yaxes(title_text="tablets", rangemode="tozero")
    return _with_waves(fig, v)


def _heartbeat_chart(v: Verdict) -> go.Figure:
    samples = _samples(v)
    x = _minutes(samples)
    fig = go.Figure()
    fig.add_scatter(x=x, y=[s.hb_p99_ms for s in samples], name="heartbeat round trip p99 (ms)")
    if any("event_loop_lag_p99_s" in s.server for s in samples):
        lags = [s.server.get("event_loop_lag_p99_s") for s in samples]
        fig.add_scatter(
            x=x,
            y=[None if lag is None else lag * 1000 for lag in lags],
            name="server event-loop lag p99 (ms)",
            line={"dash": "dash"},
        )
    for slo in v.slos:
        if slo.kind is SloKind.LATENCY and slo.op == OP_HEARTBEAT:
            fig.add_hline(
                y=slo.threshold,
                line={"color": _KO, "dash": "dash"},
                annotation_text=f"objective {slo.describe()}",
            )
    fig.update_layout(title="Heartbeat latency over time (last ~10 s)")
    fig.update_yaxes(title_text="ms", rangemode="tozero")
    return _with_waves(fig, v)


def _wave_latency_chart(v: Verdict) -> go.Figure:
    # One panel per operation, the same three colours in each: a heartbeat p99 and an
    # answer p99 differ by orders of magnitude, so they share a log scale, not a group.
    ops = [
        op
        for op in (OP_HEARTBEAT, OP_ANSWER, OP_WS_CONNECT, OP_LOGIN)
        if any(op in j.ops for j in v.waves)
    ]
    names = [f"wave {j.wave.number}" for j in v.waves]
    fig = make_subplots(rows=1, cols=max(1, len(ops)), subplot_titles=ops, shared_yaxes=True)
    for col, op in enumerate(ops, start=1):
        for q, colour in zip(PERCENTILES, _PCT_COLOURS, strict=True):
            key = f"p{q * 100:g}"
            fig.add_bar(
                x=names,
                y=[j.ops[op].percentiles_ms[key] if op in j.ops else None for j in v.waves],
                name=key,
                marker_color=colour,
                legendgroup=key,
                showlegend=col == 1,
                row=1,
                col=col,
            )
    fig.update_layout(title="Latency percentiles per wave", barmode="group", **_LAYOUT)
    fig.update_layout(hovermode="closest", margin={"t": 80})
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="ms (log scale)", row=1, col=1)
    return fig


def _failures_chart(v: Verdict) -> go.Figure:
    # Workers report every few seconds, so per-sample deltas come in bursts: a trailing
    # window turns them into a rate a person can read.
    samples = _samples(v)
    kinds = sorted({k for s in samples for k in s.failures})
    fig = go.Figure()
    points: list[tuple[float, Sample, Sample]] = []
    start = 0
    for cur in samples:
        while samples[start].t < cur.t - FAILURE_RATE_WINDOW_S:
            start += 1
        if samples[start] is not cur:
            points.append((cur.t / 60, samples[start], cur))
    x = [t for t, _, _ in points]
    for kind in kinds:
        rates = [
            max(0, cur.failures.get(kind, 0) - old.failures.get(kind, 0)) / (cur.t - old.t)
            for _, old, cur in points
        ]
        fig.add_scatter(x=x, y=rates, name=kind, mode="lines")
    if not kinds:
        fig.add_scatter(x=x, y=[0] * len(x), name="no failure recorded", mode="lines")
    fig.update_layout(
        title=f"Failures per second, by kind (over {FAILURE_RATE_WINDOW_S:.0f} s)",
        showlegend=True,
    )
    fig.update_yaxes(title_text="failures / s", rangemode="tozero")
    return _with_waves(fig, v)


def _generator_chart(v: Verdict) -> go.Figure:
    samples = _samples(v)
    memory = v.generator.peak_rss_mb is not None
    # Memory on an axis of its own, on the right; none drawn for a record without it.
    fig = make_subplots(specs=[[{"secondary_y": True}]]) if memory else go.Figure()
    fig.add_scatter(
        x=_minutes(samples),
        y=[s.generator_cpu * 100 for s in samples],
        name="generator CPU (busiest process, % of a core)",
    )
    if any(s.host_cpu is not None for s in samples):
        fig.add_scatter(
            x=_minutes(samples),
            y=[None if s.host_cpu is None else s.host_cpu * 100 for s in samples],
            name="whole machine (% of all cores)",
            line={"dash": "dot"},
        )
    if memory:
        fig.add_scatter(
            x=_minutes(samples),
            y=[s.generator_rss_mb for s in samples],
            name="generator memory (all processes, MiB)",
            line={"color": "#8250df"},
            secondary_y=True,
        )
        fig.update_yaxes(
            title_text="MiB resident", rangemode="tozero", showgrid=False, secondary_y=True
        )
    fig.add_hline(
        y=v.generator.limit * 100,
        line={"color": _KO, "dash": "dash"},
        annotation_text=f"generator-bound above {v.generator.limit:.0%}",
    )
    fig.update_layout(
        title="Load generator CPU and memory" if memory else "Load generator CPU",
        showlegend=True,
        yaxis={"title_text": "% of one core", "rangemode": "tozero"},
    )
    fig = _with_waves(fig, v)
    if memory:
        fig.update_layout(margin={"r": 70})  # room for the memory axis's title
    return fig


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}:{s:02d}"


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
