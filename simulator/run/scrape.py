"""The server side of a sample: a scrape of the target's ``/metrics`` boiled down to figures.

Keys (``Sample.server``): ``websockets_open`` (sum over centres), ``connection_cap``,
``ws_connects_total``, ``ws_rejections_total``, ``ws_rejections_cap_total``,
``ws_disconnects_total``, ``http_requests_total``, ``http_5xx_total``,
``injected_faults_total``, ``heartbeats_total``, ``answers_total``, ``fraud_alerts_total``,
``event_loop_lag_p99_s`` and ``http_request_p99_s`` (server-side, over the last scrape
interval: a slow answer seen by tablets but not here waited in the generator),
``answer_request_p99_s`` (the answer route alone: a few answers among thousands of downloads
do not move the overall p99) and ``answer_commit_p99_s`` (an answer's wait for its commit),
``cpu_ratio`` (process CPU over
the last interval, fraction of one core), ``resident_memory_bytes``, ``open_fds``.
A server that does not answer gives an empty dict: the sample says nothing rather than zero.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from vigie.protocol import ANSWER_ROUTE, ErrorCode
from vigie.wire.metrics import PROCESS_CPU_SECONDS, PROCESS_OPEN_FDS, PROCESS_RESIDENT_MEMORY
from vigie.wire.metrics import Metric as M

SCRAPE_TIMEOUT_S = 2.0

_COUNTERS = {
    M.WEBSOCKET_CONNECTS.total: "ws_connects_total",
    M.WEBSOCKET_REJECTIONS.total: "ws_rejections_total",
    M.WEBSOCKET_DISCONNECTS.total: "ws_disconnects_total",
    M.HTTP_REQUESTS.total: "http_requests_total",
    M.INJECTED_FAULTS.total: "injected_faults_total",
    M.HEARTBEATS.total: "heartbeats_total",
    M.ANSWERS.total: "answers_total",
    M.FRAUD_ALERTS.total: "fraud_alerts_total",
}
_GAUGES = {
    M.CONNECTION_CAP.value: "connection_cap",
    PROCESS_RESIDENT_MEMORY: "resident_memory_bytes",
    PROCESS_OPEN_FDS: "open_fds",
}


def scrape_server(target: str, state: dict[str, Any], session: Any = None) -> dict[str, float]:
    """Figures from ``target``/metrics; ``state`` carries the previous scrape for rates."""
    getter = session if session is not None else requests
    try:
        response = getter.get(f"{target}/metrics", timeout=SCRAPE_TIMEOUT_S)
        if response.status_code != 200:
            return {}
        text = response.text
    except requests.RequestException:
        return {}
    return parse_metrics(text, state, time.monotonic())


def parse_metrics(text: str, state: dict[str, Any], now: float) -> dict[str, float]:
    out: dict[str, float] = {"ws_rejections_cap_total": 0.0, "http_5xx_total": 0.0}
    # histograms, each summed over its labels: the figure it gives -> le -> count
    hists: dict[str, dict[float, float]] = {}
    cpu_seconds: float | None = None

    def add(key: str, value: float) -> None:
        out[key] = out.get(key, 0.0) + value

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, float(s.value)
            if name == M.WEBSOCKETS_OPEN:
                add("websockets_open", value)
            elif name in _GAUGES:
                out[_GAUGES[name]] = value
            elif name in _HISTOGRAMS:
                le = float(labels["le"])
                for figure in _histogram_figures(name, labels):
                    buckets = hists.setdefault(figure, {})
                    buckets[le] = buckets.get(le, 0.0) + value
            elif name == PROCESS_CPU_SECONDS:
                cpu_seconds = value
            elif name in _COUNTERS:
                add(_COUNTERS[name], value)
                extra = _also_counted(name, labels)
                if extra is not None:
                    add(extra, value)
    for figure, buckets in hists.items():
        out[figure] = _interval_p99(buckets, state, figure)
    if cpu_seconds is not None:
        last = state.get("cpu")
        if last is not None and now > last[1]:
            out["cpu_ratio"] = max(0.0, (cpu_seconds - last[0]) / (now - last[1]))
        state["cpu"] = (cpu_seconds, now)
    return out


_HISTOGRAMS = {
    M.LOOP_LAG.bucket: "event_loop_lag_p99_s",
    M.HTTP_DURATION.bucket: "http_request_p99_s",
    M.ANSWER_COMMIT.bucket: "answer_commit_p99_s",
}


def _histogram_figures(name: str, labels: dict[str, str]) -> tuple[str, ...]:
    """The p99 figures a histogram bucket feeds (the answer route's also its own)."""
    if name == M.HTTP_DURATION.bucket and labels.get("route") == ANSWER_ROUTE:
        return (_HISTOGRAMS[name], "answer_request_p99_s")
    return (_HISTOGRAMS[name],)


def _also_counted(name: str, labels: dict[str, str]) -> str | None:
    """The figure a counter's sample also feeds: cap refusals, 5xx answers."""
    if name == M.WEBSOCKET_REJECTIONS.total and labels.get("reason") == ErrorCode.CONNECTION_CAP:
        return "ws_rejections_cap_total"
    if name == M.HTTP_REQUESTS.total and labels.get("status", "").startswith("5"):
        return "http_5xx_total"
    return None


def _interval_p99(buckets: dict[float, float], state: dict[str, Any], key: str) -> float:
    """p99 over the interval since the previous scrape (kept in ``state[key]``)."""
    previous: dict[float, float] = state.get(key, {})
    state[key] = buckets
    return _bucket_quantile({le: n - previous.get(le, 0.0) for le, n in buckets.items()}, 0.99)


def _bucket_quantile(cumulative: dict[float, float], q: float) -> float:
    """Upper bound of the bucket holding quantile ``q`` (0 when nothing was observed)."""
    bounds = sorted(cumulative)
    total = cumulative.get(float("inf"), max(cumulative.values(), default=0.0))
    if total <= 0:
        return 0.0
    for le in bounds:
        if cumulative[le] >= q * total:
            return le if le != float("inf") else bounds[-2] if len(bounds) > 1 else 0.0
    return bounds[-1]
