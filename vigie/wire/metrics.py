"""Prometheus metric names that the exam server and the fleet export and that the fleet's
scraper, the Grafana boards and the alert rules read: each spelled here once.

Names are the base names that prometheus-client takes; a counter is exposed with
``_total``, a histogram with ``_bucket``/``_sum``/``_count`` (``Metric.X.total``, ...).
"""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    # the exam server
    HTTP_REQUESTS = "vigie_http_requests"  # counter: route, method, status
    HTTP_DURATION = "vigie_http_request_duration_seconds"  # histogram: route, method
    HTTP_ERRORS = "vigie_http_errors"  # counter: route, code
    WEBSOCKETS_OPEN = "vigie_websockets_open"  # gauge: centre
    CONNECTION_CAP = "vigie_connection_cap"  # gauge (0 = no cap)
    WEBSOCKET_CONNECTS = "vigie_websocket_connects"  # counter
    WEBSOCKET_REJECTIONS = "vigie_websocket_rejections"  # counter: reason
    WEBSOCKET_DISCONNECTS = "vigie_websocket_disconnects"  # counter: reason
    HEARTBEATS = "vigie_heartbeats"  # counter
    CANDIDATES = "vigie_candidates"  # gauge: state
    ANSWERS = "vigie_answers"  # counter: result (AnswerOutcome)
    ANSWER_COMMIT = "vigie_answer_commit_duration_seconds"  # histogram
    LOOP_LAG = "vigie_event_loop_lag_seconds"  # histogram
    GC_PAUSE = "vigie_gc_pause_seconds"  # histogram: generation (the loop stands still)
    GC_FREEZES = (
        "vigie_gc_freezes_total"  # counter: what survived moved out of the collector's sight
    )
    FRAUD_ALERTS = "vigie_fraud_alerts"  # counter
    INJECTED_FAULTS = "vigie_injected_faults"  # counter: kind (FaultKind)
    WRITER_QUEUE = "vigie_writer_queue"  # gauge: writes waiting for their commit
    WRITER_OLDEST = "vigie_writer_oldest_pending_seconds"  # gauge: age of the oldest waiting write
    WEBSOCKET_RECONNECTS = (
        "vigie_websocket_reconnects"  # counter: centre (a tablet back during a unit)
    )
    PLANNED_EXTRA_MISSING = (
        "vigie_planned_extra_time_missing"  # gauge: centre (tiers-temps not applied)
    )
    # the fleet (Locust workers and master)
    FLEET_USERS = "vigie_fleet_users"  # gauge
    FLEET_SOCKETS_OPEN = "vigie_fleet_sockets_open"  # gauge
    FLEET_WAVE = "vigie_fleet_wave"  # gauge
    FLEET_CPU = "vigie_fleet_cpu_ratio"  # gauge: process
    FLEET_MEMORY = "vigie_fleet_resident_memory_bytes"  # gauge: process
    FLEET_REQUESTS = "vigie_fleet_requests"  # counter: name
    FLEET_FAILURES = "vigie_fleet_failures"  # counter: name, kind
    FLEET_HEARTBEAT_RTT = "vigie_fleet_heartbeat_rtt_seconds"  # histogram

    @property
    def total(self) -> str:
        return f"{self.value}_total"

    @property
    def bucket(self) -> str:
        return f"{self.value}_bucket"


class AnswerOutcome(StrEnum):
    """``result`` label of ``vigie_answers``."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class FaultKind(StrEnum):
    """A server-side fault: ``kind`` label of ``vigie_injected_faults``, and what the
    operator's fault endpoint applies."""

    LATENCY = "latency"  # every API call waits `ms`
    ERROR = "error"  # a share `ratio` of API calls is answered 503 injected_fault
    DB_STALL = "db_stall"  # the database commits nothing: answers wait, unacknowledged
    # launches in these centres forget the candidates' planned extra time (2019)
    DROP_PLANNED = "drop_planned_extra_time"


# What the process collector exports (prometheus-client), read by the fleet's scraper.
PROCESS_CPU_SECONDS = "process_cpu_seconds_total"
PROCESS_RESIDENT_MEMORY = "process_resident_memory_bytes"
PROCESS_OPEN_FDS = "process_open_fds"
