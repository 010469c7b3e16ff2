"""The master's view of a fleet run: per-wave tallies, a sample a second, the server's metrics.

Runs on the Locust master (or the local runner) in gevent greenlets. Worker reports and
the local tally are merged into the wave that is current on the master's clock; a
sampler greenlet appends one :class:`~simulator.record.Sample` a second to the
:class:`~simulator.record.RunRecord`, and a scraper greenlet keeps the latest figures
of the target's ``/metrics``.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent
import psutil

from scenarios.model import Scenario
from simulator.record import OP_ANSWER, OP_HEARTBEAT, LatencyHistogram, OpTally, RunRecord, Sample
from simulator.run.plan import planned_record, wave_at
from simulator.run.scrape import scrape_server
from simulator.run.tally import REPORT_KEY, Tally

HB_WINDOW_S = 10.0  # the heartbeat p99 in a sample covers this much recent time
ANSWER_WINDOW_MIN = 20  # fewer answers in a window than this give no answer p99
WORKER_STALE_S = 15.0  # a worker silent for this long no longer counts its sockets


class FleetMonitor:
    def __init__(
        self,
        scenario: Scenario,
        scenario_path: str,
        target: str,
        runner: Any,
        on_sample: Callable[[Sample], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scenario = scenario
        self._clock = clock  # the run's time line (CPU is measured on the real one)
        self.target = target.rstrip("/")
        self.runner = runner
        self.on_sample = on_sample
        self.local_tally: Tally | None = None
        # Where a note also goes as it is made (a plain locust master writes no report).
        self.echo: Callable[[str], None] | None = None
        self.record = planned_record(scenario, scenario_path, self.target)
        self.requests: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.totals: dict[str, OpTally] = {}  # whole run, for the exporter
        self.workers: dict[str, dict[str, Any]] = {}  # client id -> latest report
        self.server: dict[str, float] = {}
        self._hb_window: deque[tuple[float, LatencyHistogram]] = deque()
        self._wait_window: deque[tuple[float, LatencyHistogram]] = deque()
        self._answer_window: deque[tuple[float, LatencyHistogram]] = deque()
        self._t0 = clock()
        self._process = psutil.Process(os.getpid())
        times = self._process.cpu_times()
        self._cpu_mark = (time.monotonic(), float(times.user + times.system))
        self._cpu_ratio = 0.0
        self._greenlets: list[gevent.Greenlet] = []
        self._scrape_state: dict[str, Any] = {}
        self.gc_pause_max_ms = 0.0  # longest garbage-collector pause in a generator process

    # --- time -------------------------------------------------------------------------
    def now(self) -> float:
        return self._clock() - self._t0

    def current_wave(self) -> int:
        return wave_at(self.scenario, self.now())

    # --- intake -----------------------------------------------------------------------
    def on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        payload = data.get(REPORT_KEY)
        if isinstance(payload, dict):
            self.ingest(client_id, payload)

    def ingest(self, source: str, payload: dict[str, Any]) -> None:
        # Before the first wave starts, operations belong to wave 1 (nothing else runs).
        # In a fault's window they belong to the fault: judged by its recovery, not the SLOs.
        now = self.now()
        fault = next((f for f in self.record.faults if f.in_window(now)), None)
        ops = self.record.waves[max(self.current_wave(), 1) - 1].ops if fault is None else fault.ops
        for name, raw in payload.get("ops", {}).items():
            tally = OpTally.from_json(raw)
            ops.setdefault(name, OpTally()).merge(tally)
            self.totals.setdefault(name, OpTally()).merge(tally)
            self.requests[name] = self.requests.get(name, 0) + tally.count
            for kind, n in tally.failures.items():
                self.failures[kind] = self.failures.get(kind, 0) + n
            if name == OP_HEARTBEAT and tally.latency.count():
                self._hb_window.append((self.now(), tally.latency))
            elif name == OP_ANSWER and tally.latency.count():
                self._answer_window.append((self.now(), tally.latency))
        self.gc_pause_max_ms = max(self.gc_pause_max_ms, float(payload.get("gc_pause_max_ms", 0.0)))
        waits = payload.get("http_wait")
        if isinstance(waits, dict) and waits:
            self._wait_window.append((now, LatencyHistogram.from_json(waits)))
        self.workers[source] = {
            "lag_ms": _opt(payload.get("lag_ms")),
            "host_cpu": _opt(payload.get("host_cpu")),
            "sockets_open": int(payload.get("sockets_open", 0)),
            "cpu": float(payload.get("cpu", 0.0)),
            "rss": None if payload.get("rss") is None else int(payload["rss"]),
            "at": self.now(),
            # cumulative per process: answers that went into the offline queue, by centre
            "offline_queued": dict(payload.get("offline_queued", {})),
        }

    # --- sampling ---------------------------------------------------------------------
    def sockets_open(self) -> int:
        fresh = [w for w in self.workers.values() if self.now() - w["at"] < WORKER_STALE_S]
        return sum(w["sockets_open"] for w in fresh)

    def offline_queued(self) -> dict[str, int]:
        """Answers queued offline so far, by centre, over every generator process."""
        total: dict[str, int] = {}
        for w in self.workers.values():
            for centre, n in w.get("offline_queued", {}).items():
                total[centre] = total.get(centre, 0) + int(n)
        return total

    def generator_cpu(self) -> float:
        fresh: list[float] = [
            w["cpu"] for w in self.workers.values() if self.now() - w["at"] < WORKER_STALE_S
        ]
        return max([self._own_cpu(), *fresh])

    def generator_rss_mb(self) -> float | None:
        """Resident memory of every generator process together (MiB); None if none said."""
        measured: list[int] = [
            w["rss"]
            for w in self.workers.values()
            if w["rss"] is not None and self.now() - w["at"] < WORKER_STALE_S
        ]
        if self.local_tally is None:
            # The master holds the fleet's bookkeeping (tallies, samples, ledgers), which
            # grows with it; a local runner's own report already counts this process.
            measured.append(int(self._process.memory_info().rss))
        return round(sum(measured) / 2**20, 1) if measured else None

    def _own_cpu(self) -> float:
        # psutil.cpu_percent over a few milliseconds is clock-tick noise (200%, 400%):
        # measure over at least half a second and keep the last figure in between.
        now = time.monotonic()
        times = self._process.cpu_times()
        used = float(times.user + times.system)
        last_at, last_used = self._cpu_mark
        if now - last_at >= 0.5:
            self._cpu_ratio = max(0.0, (used - last_used) / (now - last_at))
            self._cpu_mark = (now, used)
        return self._cpu_ratio

    def hb_p99_ms(self) -> float | None:
        return self._window_p99(self._hb_window)

    def http_wait_p99_ms(self) -> float | None:
        """The p99 of the calls' waits for a pooled connection, over the last ~10 s."""
        return self._window_p99(self._wait_window)

    def answer_p99_ms(self) -> float | None:
        """The answers' p99 over the last ~10 s, once enough of them say something."""
        return self._window_p99(self._answer_window, ANSWER_WINDOW_MIN)

    def _window_p99(
        self, window: deque[tuple[float, LatencyHistogram]], at_least: int = 1
    ) -> float | None:
        horizon = self.now() - HB_WINDOW_S
        while window and window[0][0] < horizon:
            window.popleft()
        merged = LatencyHistogram()
        for _, hist in window:
            merged.merge(hist)
        return merged.percentile(0.99) if merged.count() >= at_least else None

    def _fresh_max(self, key: str) -> float | None:
        """The worst figure ``key`` of the generator processes heard from lately."""
        values = [
            float(w[key])
            for w in self.workers.values()
            if w.get(key) is not None and self.now() - w["at"] < WORKER_STALE_S
        ]
        return max(values) if values else None

    def take_sample(self) -> Sample:
        if self.local_tally is not None:
            self.ingest("local", self.local_tally.drain())
        sample = Sample(
            t=round(self.now(), 3),
            wave=self.current_wave(),
            users=int(getattr(self.runner, "user_count", 0)),
            sockets_open=self.sockets_open(),
            generator_cpu=round(self.generator_cpu(), 4),
            generator_rss_mb=self.generator_rss_mb(),
            requests=dict(self.requests),
            failures=dict(self.failures),
            hb_p99_ms=self.hb_p99_ms(),
            answer_p99_ms=self.answer_p99_ms(),
            host_cpu=self._fresh_max("host_cpu"),
            generator_lag_ms=self._fresh_max("lag_ms"),
            http_wait_p99_ms=self.http_wait_p99_ms(),
            server=dict(self.server),
        )
        self.record.samples.append(sample)
        if self.on_sample is not None:
            self.on_sample(sample)
        return sample

    def _sample_loop(self) -> None:
        while True:
            started = time.monotonic()
            self.take_sample()
            gevent.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    def _scrape_loop(self) -> None:
        last_ok = time.monotonic()
        while True:
            started = time.monotonic()
            figures = scrape_server(self.target, self._scrape_state)
            if figures:
                last_ok = time.monotonic()
                self.server = {**figures, "scrape_age_s": 0.0}
            elif self.server:
                # A server too busy to answer its own /metrics: the figures kept are old, and
                # how old is itself evidence (the certifier reads it as saturation).
                self.server = {**self.server, "scrape_age_s": round(started - last_ok, 1)}
            gevent.sleep(max(0.2, 1.0 - (time.monotonic() - started)))

    # --- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start the clock (call right before the shape starts) and the greenlets."""
        self._t0 = self._clock()
        self.record.started_at = time.time()
        times = self._process.cpu_times()  # measure from now on, not from the setup
        self._cpu_mark = (time.monotonic(), float(times.user + times.system))
        self._greenlets = [gevent.spawn(self._scrape_loop), gevent.spawn(self._sample_loop)]

    def note(self, text: str) -> None:
        line = f"t={self.now():.1f}s {text}"
        self.record.notes.append(line)
        if self.echo is not None:
            self.echo(line)

    def finish(self) -> RunRecord:
        gevent.killall(self._greenlets, block=True, timeout=5)
        self.take_sample()  # the last reports that came in after the final tick
        end = self.now()
        for i, wave in enumerate(self.record.waves):
            nxt = self.record.waves[i + 1].started_at if i + 1 < len(self.record.waves) else end
            wave.ended_at = round(min(nxt, end), 3)
        self.record.ended_at = time.time()
        self.record.notes.append(
            f"generator: longest garbage-collection pause {self.gc_pause_max_ms:,.0f} ms"
        )
        cpu_max = max((s.generator_cpu for s in self.record.samples), default=0.0)
        limit = self.scenario.slos.generator_cpu_max
        if cpu_max > limit:
            # The certifier decides whether that lasted long enough to void the run.
            self.record.notes.append(
                f"generator: CPU peaked at {cpu_max:.0%} of a core (limit {limit:.0%})"
            )
        return self.record


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
