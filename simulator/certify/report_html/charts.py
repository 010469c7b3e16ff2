"""The report's charts: plotly figures over the run's samples and waves.

Each chart marks the waves' starts and the injected faults the same way (``_with_waves``),
so a person can put a curve's change next to what the run did at that moment.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from simulator.certify.faults import label
from simulator.certify.judge import PERCENTILES
from simulator.certify.slo import SloKind
from simulator.certify.verdict import Verdict
from simulator.record import OP_ANSWER, OP_HEARTBEAT, OP_LOGIN, OP_WS_CONNECT, Sample

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


def embed(fig: go.Figure) -> str:
    """A chart's markup, using the plotly bundle the page's head inlines once."""
    chart = fig.to_html(full_html=False, include_plotlyjs=False, config=_PLOT_CONFIG)
    return f'<div class="chart">{chart}</div>'


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


def faults(v: Verdict) -> go.Figure:
    """The server's view of the tablets each injected fault affected, over time."""
    fig = go.Figure()
    for f in v.record.faults:
        if f.series:
            fig.add_scatter(
                x=[p[0] / 60 for p in f.series], y=[p[1] for p in f.series], name=label(f)
            )
    fig.update_yaxes(title_text="affected tablets late or lost")
    fig.update_layout(title="Injected faults: the server's view of the affected tablets")
    return _with_waves(fig, v)


def connected(v: Verdict) -> go.Figure:
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


def heartbeat(v: Verdict) -> go.Figure:
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


def wave_latency(v: Verdict) -> go.Figure:
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


def failures(v: Verdict) -> go.Figure:
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


def generator(v: Verdict) -> go.Figure:
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
