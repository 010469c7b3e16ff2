"""The server side of a sample: a scrape of the target's ``/metrics`` boiled down to figures.

Keys (``Sample.server``): ``websockets_open`` (sum over centres), ``connection_cap``,
``ws_connects_total``, ``ws_rejections_total``, ``ws_rejections_cap_total``,
``ws_disconnects_total``, ``http_requests_total``, ``http_5xx_total``,
``injected_faults_total``, ``heartbeats_total``, ``answers_total``, ``fraud_alerts_total``,
``event_loop_lag_p99_s`` and ``http_request_p99_s`` (server-side, over the last scrape
interval: a slow answer seen by tablets but not here waited in the generator), ``cpu_ratio`` (process CPU over
the last interval, fraction of one core), ``resident_memory_bytes``, ``open_fds``.
A server that does not answer gives an empty dict: the sample says nothing rather than zero.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TIMEOUT_S = 2.0

_COUNTERS = {
    "vigie_websocket_connects": "ws_connects_total",
    "vigie_websocket_rejections": "ws_rejections_total",
    "vigie_websocket_disconnects": "ws_disconnects_total",
    "vigie_http_requests": "http_requests_total",
    "vigie_injected_faults": "injected_faults_total",
    "vigie_heartbeats": "heartbeats_total",
    "vigie_answers": "answers_total",
    "vigie_fraud_alerts": "fraud_alerts_total",
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
    out: dict[str, float] = {}
    lag_buckets: dict[float, float] = {}
    http_buckets: dict[float, float] = {}  # summed over routes and methods
    cpu_seconds: float | None = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, float(s.value)
            if name == "vigie_websockets_open":
                out["websockets_open"] = out.get("websockets_open", 0.0) + value
            elif name == "vigie_connection_cap":
                out["connection_cap"] = value
            elif name == "vigie_event_loop_lag_seconds_bucket":
                lag_buckets[float(labels["le"])] = value
            elif name == "vigie_http_request_duration_seconds_bucket":
                le = float(labels["le"])
                http_buckets[le] = http_buckets.get(le, 0.0) + value
            elif name == "process_cpu_seconds_total":
                cpu_seconds = value
            elif name == "process_resident_memory_bytes":
                out["resident_memory_bytes"] = value
            elif name == "process_open_fds":
                out["open_fds"] = value
            elif name.endswith("_total") and name.removesuffix("_total") in _COUNTERS:
                key = _COUNTERS[name.removesuffix("_total")]
                out[key] = out.get(key, 0.0) + value
                if key == "ws_rejections_total" and labels.get("reason") == "connection_cap":
                    out["ws_rejections_cap_total"] = out.get("ws_rejections_cap_total", 0.0) + value
                if key == "http_requests_total" and labels.get("status", "").startswith("5"):
                    out["http_5xx_total"] = out.get("http_5xx_total", 0.0) + value
    out.setdefault("ws_rejections_cap_total", 0.0)
    out.setdefault("http_5xx_total", 0.0)
    if lag_buckets:
        previous: dict[float, float] = state.get("lag", {})
        delta = {le: n - previous.get(le, 0.0) for le, n in lag_buckets.items()}
        out["event_loop_lag_p99_s"] = _bucket_quantile(delta, 0.99)
        state["lag"] = lag_buckets
    if http_buckets:
        previous = state.get("http", {})
        delta = {le: n - previous.get(le, 0.0) for le, n in http_buckets.items()}
        out["http_request_p99_s"] = _bucket_quantile(delta, 0.99)
        state["http"] = http_buckets
    if cpu_seconds is not None:
        last = state.get("cpu")
        if last is not None and now > last[1]:
            out["cpu_ratio"] = max(0.0, (cpu_seconds - last[0]) / (now - last[1]))
        state["cpu"] = (cpu_seconds, now)
    return out


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
