"""Prometheus metrics, named in ``vigie.wire.metrics``; one registry per app."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from vigie.protocol import CandidateState
from vigie.wire.metrics import AnswerOutcome
from vigie.wire.metrics import Metric as M

_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        self.http_requests = Counter(
            M.HTTP_REQUESTS, "HTTP requests.", ["route", "method", "status"], registry=r
        )
        self.http_duration = Histogram(
            M.HTTP_DURATION,
            "HTTP request latency (websocket upgrades excluded).",
            ["route", "method"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.http_errors = Counter(
            M.HTTP_ERRORS, "HTTP error answers by error code.", ["route", "code"], registry=r
        )
        self.ws_open = Gauge(M.WEBSOCKETS_OPEN, "Open tablet websockets.", ["centre"], registry=r)
        self.connection_cap = Gauge(
            M.CONNECTION_CAP, "Cap on open tablet websockets (0 = no cap).", registry=r
        )
        self.ws_connects = Counter(M.WEBSOCKET_CONNECTS, "Accepted websockets.", registry=r)
        self.ws_rejections = Counter(
            M.WEBSOCKET_REJECTIONS, "Refused websocket upgrades.", ["reason"], registry=r
        )
        self.ws_disconnects = Counter(
            M.WEBSOCKET_DISCONNECTS, "Closed websockets.", ["reason"], registry=r
        )
        self.heartbeats = Counter(M.HEARTBEATS, "Heartbeats received.", registry=r)
        self.candidates = Gauge(
            M.CANDIDATES, "Candidates by supervision state.", ["state"], registry=r
        )
        self.answers = Counter(M.ANSWERS, "Answer submissions.", ["result"], registry=r)
        self.answer_commit = Histogram(
            M.ANSWER_COMMIT,
            "Time from an answer's arrival to its commit on disk.",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            M.LOOP_LAG,
            "Delay of the event loop in waking a periodic probe.",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.fraud_alerts = Counter(M.FRAUD_ALERTS, "Fraud alerts recorded.", registry=r)
        self.writer_queue = Gauge(
            M.WRITER_QUEUE, "Writes waiting for their commit (a stalled database).", registry=r
        )
        self.injected_faults = Counter(
            M.INJECTED_FAULTS, "Faults injected by the knobs.", ["kind"], registry=r
        )
        for state in CandidateState:
            self.candidates.labels(state.value).set(0)
        for result in AnswerOutcome:
            self.answers.labels(result.value)
