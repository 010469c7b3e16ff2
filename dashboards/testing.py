"""Test helpers for the mixin: a real Prometheus with the mixin's rules, and a fake /metrics.

Like starlette.testclient, this lives in the package so that tests (and anyone checking
a dashboard change by hand) can import it; it starts nothing on import. Everything binds
127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from dashboards.mixin_files import rule_files
from vigie.testing import free_port
from vigie.wire.metrics import Metric as M


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read()
        return body


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            answer = json.loads(http_get(url))
        except urllib.error.HTTPError as exc:  # a 400 carries the PromQL parse error
            raise AssertionError(f"{expr!r}: {exc.read().decode()}") from exc
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def has_data(self, expr: str) -> bool:
        """At least one sample, and not only NaN (a quantile of nothing is NaN)."""
        return any(not math.isnan(float(s["value"][1])) for s in self.query(expr))

    def targets_up(self) -> dict[str, str]:
        data = json.loads(http_get(f"{self.url}/api/v1/targets"))["data"]["activeTargets"]
        return {t["scrapeUrl"]: t["health"] for t in data}


@contextmanager
def start_prometheus(binary: str, tmp: Path, jobs: dict[str, list[str]]) -> Iterator[Prometheus]:
    """A real Prometheus scraping ``jobs`` (name -> host:port targets) every second,
    with the mixin's rule files loaded; stopped and reaped on exit."""
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(p) for p in rule_files()],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}]}
            for job, targets in jobs.items()
        ],
    }
    config_path = tmp / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = tmp / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    prom = Prometheus(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                http_get(f"{prom.url}/-/ready", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"prometheus did not start:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.2)
        yield prom
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_for_data(prom: Prometheus, exprs: list[str], timeout_s: float) -> list[str]:
    """Poll until every expression returns data or the time is up; returns those still empty."""
    pending = list(dict.fromkeys(exprs))
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        pending = [e for e in pending if not prom.has_data(e)]
        if pending:
            time.sleep(1.0)
    return pending


# --- the fake exposition --------------------------------------------------------------


class FakeExposition:
    """Every metric of docs/protocol.md, served by prometheus-client on 127.0.0.1.

    A background thread moves counters, gauges and histograms a little every 100 ms, as a
    server under a small load and its fleet would, so that rate() and quantiles have data.
    """

    CENTRES = ("AMIENS", "BREST", "CAEN")

    def __init__(self) -> None:
        self.server = CollectorRegistry()
        self.fleet = CollectorRegistry()
        s, f = self.server, self.fleet
        ProcessCollector(registry=s)
        self.requests = Counter(
            M.HTTP_REQUESTS,
            f"fake {M.HTTP_REQUESTS}",
            ["route", "method", "status"],
            registry=s,
        )
        self.duration = Histogram(
            M.HTTP_DURATION,
            f"fake {M.HTTP_DURATION}",
            ["route", "method"],
            registry=s,
        )
        self.errors = Counter(M.HTTP_ERRORS, f"fake {M.HTTP_ERRORS}", ["route", "code"], registry=s)
        self.ws_open = Gauge(M.WEBSOCKETS_OPEN, f"fake {M.WEBSOCKETS_OPEN}", ["centre"], registry=s)
        self.cap = Gauge(M.CONNECTION_CAP, f"fake {M.CONNECTION_CAP}", registry=s)
        self.connects = Counter(M.WEBSOCKET_CONNECTS, f"fake {M.WEBSOCKET_CONNECTS}", registry=s)
        self.rejections = Counter(
            M.WEBSOCKET_REJECTIONS, f"fake {M.WEBSOCKET_REJECTIONS}", ["reason"], registry=s
        )
        self.disconnects = Counter(
            M.WEBSOCKET_DISCONNECTS,
            f"fake {M.WEBSOCKET_DISCONNECTS}",
            ["reason"],
            registry=s,
        )
        self.heartbeats = Counter(M.HEARTBEATS, f"fake {M.HEARTBEATS}", registry=s)
        self.candidates = Gauge(M.CANDIDATES, f"fake {M.CANDIDATES}", ["state"], registry=s)
        self.answers = Counter(M.ANSWERS, f"fake {M.ANSWERS}", ["result"], registry=s)
        self.commit = Histogram(
            M.ANSWER_COMMIT,
            f"fake {M.ANSWER_COMMIT}",
            registry=s,
        )
        self.lag = Histogram(M.LOOP_LAG, f"fake {M.LOOP_LAG}", registry=s)
        self.gc_pause = Histogram(M.GC_PAUSE, f"fake {M.GC_PAUSE}", ["generation"], registry=s)
        self.gc_freezes = Counter(M.GC_FREEZES, f"fake {M.GC_FREEZES}", registry=s)
        self.fraud = Counter(M.FRAUD_ALERTS, f"fake {M.FRAUD_ALERTS}", registry=s)
        self.faults = Counter(M.INJECTED_FAULTS, f"fake {M.INJECTED_FAULTS}", ["kind"], registry=s)
        self.writer_queue = Gauge(M.WRITER_QUEUE, f"fake {M.WRITER_QUEUE}", registry=s)
        self.writer_oldest = Gauge(M.WRITER_OLDEST, f"fake {M.WRITER_OLDEST}", registry=s)
        self.reconnects = Counter(
            M.WEBSOCKET_RECONNECTS, f"fake {M.WEBSOCKET_RECONNECTS}", ["centre"], registry=s
        )
        self.planned_missing = Gauge(
            M.PLANNED_EXTRA_MISSING, f"fake {M.PLANNED_EXTRA_MISSING}", ["centre"], registry=s
        )
        self.users = Gauge(M.FLEET_USERS, f"fake {M.FLEET_USERS}", registry=f)
        self.sockets = Gauge(M.FLEET_SOCKETS_OPEN, f"fake {M.FLEET_SOCKETS_OPEN}", registry=f)
        self.rtt = Histogram(
            M.FLEET_HEARTBEAT_RTT,
            f"fake {M.FLEET_HEARTBEAT_RTT}",
            registry=f,
        )
        self.fleet_requests = Counter(
            M.FLEET_REQUESTS, f"fake {M.FLEET_REQUESTS}", ["name"], registry=f
        )
        self.fleet_failures = Counter(
            M.FLEET_FAILURES, f"fake {M.FLEET_FAILURES}", ["name", "kind"], registry=f
        )
        self.cpu = Gauge(M.FLEET_CPU, f"fake {M.FLEET_CPU}", ["worker"], registry=f)
        self.wave = Gauge(M.FLEET_WAVE, f"fake {M.FLEET_WAVE}", registry=f)
        self.cap.set(100)
        self._stop = threading.Event()
        self._rng = random.Random(2022)

    def tick(self) -> None:
        rng = self._rng
        for route, method, status in (
            ("/api/v1/login", "POST", "200"),
            ("/api/v1/units/{unit_id}/answers", "POST", "200"),
            ("/api/v1/ws", "GET", "503"),
        ):
            self.requests.labels(route, method, status).inc()
            self.duration.labels(route, method).observe(rng.uniform(0.001, 0.05))
        self.errors.labels("/api/v1/ws", "connection_cap").inc()
        for centre in self.CENTRES:
            self.ws_open.labels(centre).set(rng.randint(20, 30))
            self.reconnects.labels(centre).inc(rng.randint(0, 1))
            self.planned_missing.labels(centre).set(0)
        self.writer_queue.set(rng.randint(0, 3))
        self.writer_oldest.set(rng.uniform(0.0, 0.01))
        self.connects.inc()
        self.rejections.labels("connection_cap").inc()
        self.disconnects.labels("network").inc()
        self.heartbeats.inc(10)
        for state in ("waiting", "in_progress", "late", "lost", "finished"):
            self.candidates.labels(state).set(rng.randint(0, 30))
        self.answers.labels("accepted").inc()
        self.commit.observe(rng.uniform(0.001, 0.01))
        self.lag.observe(rng.uniform(0.0001, 0.005))
        for generation in ("0", "1", "2"):
            self.gc_pause.labels(generation).observe(rng.uniform(0.0001, 0.02))
        self.gc_freezes.inc()
        self.fraud.inc()
        self.faults.labels("latency").inc()
        self.users.set(90)
        self.sockets.set(75)
        self.rtt.observe(rng.uniform(0.001, 0.02))
        for name in ("login", "ws_connect", "heartbeat", "answer"):
            self.fleet_requests.labels(name).inc()
        self.fleet_failures.labels("ws_connect", "connection_cap").inc()
        self.cpu.labels("local").set(rng.uniform(0.1, 0.3))
        self.wave.set(2)

    def run(self, max_s: float) -> None:
        deadline = time.monotonic() + max_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            self.tick()
            self._stop.wait(0.1)

    def stop(self) -> None:
        self._stop.set()
