"""Prometheus metrics, named exactly as docs/protocol.md says; one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from vigie.protocol import CandidateState

_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        self.http_requests = Counter(
            "vigie_http_requests", "HTTP requests.", ["route", "method", "status"], registry=r
        )
        self.http_duration = Histogram(
            "vigie_http_request_duration_seconds",
            "HTTP request latency (websocket upgrades excluded).",
            ["route", "method"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.http_errors = Counter(
            "vigie_http_errors", "HTTP error answers by error code.", ["route", "code"], registry=r
        )
        self.ws_open = Gauge(
            "vigie_websockets_open", "Open tablet websockets.", ["centre"], registry=r
        )
        self.connection_cap = Gauge(
            "vigie_connection_cap", "Cap on open tablet websockets (0 = no cap).", registry=r
        )
        self.ws_connects = Counter("vigie_websocket_connects", "Accepted websockets.", registry=r)
        self.ws_rejections = Counter(
            "vigie_websocket_rejections", "Refused websocket upgrades.", ["reason"], registry=r
        )
        self.ws_disconnects = Counter(
            "vigie_websocket_disconnects", "Closed websockets.", ["reason"], registry=r
        )
        self.heartbeats = Counter("vigie_heartbeats", "Heartbeats received.", registry=r)
        self.candidates = Gauge(
            "vigie_candidates", "Candidates by supervision state.", ["state"], registry=r
        )
        self.answers = Counter("vigie_answers", "Answer submissions.", ["result"], registry=r)
        self.answer_commit = Histogram(
            "vigie_answer_commit_duration_seconds",
            "Time from an answer's arrival to its commit on disk.",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "vigie_event_loop_lag_seconds",
            "Delay of the event loop in waking a periodic probe.",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.fraud_alerts = Counter("vigie_fraud_alerts", "Fraud alerts recorded.", registry=r)
        self.injected_faults = Counter(
            "vigie_injected_faults", "Faults injected by the knobs.", ["kind"], registry=r
        )
        for state in CandidateState:
            self.candidates.labels(state.value).set(0)
        for result in ("accepted", "duplicate", "rejected"):
            self.answers.labels(result)
