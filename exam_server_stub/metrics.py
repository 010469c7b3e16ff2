"""Prometheus metrics, named in ``vigie.wire.metrics``; one registry per app.

Cheap on the hot paths: the writer's gauges and the candidate counts are read at scrape
time, and per-centre series (about 35 centres) move only on a connection, never on a
heartbeat.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from vigie.protocol import CandidateState
from vigie.wire.metrics import AnswerOutcome
from vigie.wire.metrics import Metric as M

if TYPE_CHECKING:
    from .store import Writer

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
        self.gc_pause = Histogram(
            M.GC_PAUSE,
            "Pauses of the cyclic garbage collector (the event loop stands still meanwhile).",
            ["generation"],
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.gc_freezes = Counter(
            M.GC_FREEZES,
            "Times what survived was moved out of the cyclic collector's sight.",
            registry=r,
        )
        self.fraud_alerts = Counter(M.FRAUD_ALERTS, "Fraud alerts recorded.", registry=r)
        self.writer_queue = Gauge(
            M.WRITER_QUEUE, "Writes waiting for their commit (a stalled database).", registry=r
        )
        self.writer_oldest = Gauge(
            M.WRITER_OLDEST,
            "Age of the oldest write waiting for its commit (0 when none waits).",
            registry=r,
        )
        self.ws_reconnects = Counter(
            M.WEBSOCKET_RECONNECTS,
            "Tablets back on a new websocket during a unit, by centre.",
            ["centre"],
            registry=r,
        )
        self.planned_extra_missing = Gauge(
            M.PLANNED_EXTRA_MISSING,
            "Candidates whose deadline does not include their planned extra time, by centre.",
            ["centre"],
            registry=r,
        )
        self.injected_faults = Counter(
            M.INJECTED_FAULTS, "Faults injected by the knobs.", ["kind"], registry=r
        )
        for state in CandidateState:
            self.candidates.labels(state.value).set(0)
        for result in AnswerOutcome:
            self.answers.labels(result.value)

    def watch_writer(self, writer: Writer) -> None:
        """The writer's queue and the age of its oldest write, read at each scrape."""
        self.writer_queue.set_function(writer.pending)
        self.writer_oldest.set_function(writer.oldest_pending_s)

    def known_centres(self, codes: Iterable[str]) -> None:
        """Every centre's per-centre series from the start, at 0: rate() then counts a
        centre's first reconnect, and an alert reads 0 rather than nothing."""
        for code in codes:
            self.ws_reconnects.labels(code)
            self.planned_extra_missing.labels(code)

    def reconnected(self, centre: str) -> None:
        self.ws_reconnects.labels(centre).inc()
