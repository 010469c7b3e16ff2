"""What each generator process tallies and reports to the master.

Locust's own stats lose what the certifier needs (the failure *kind*, the wave an
operation fell in, the number of open sockets), so every process that runs tablets
keeps a :class:`Tally` fed by Locust request events and, for the acknowledged
heartbeats, by their batches (:mod:`simulator.tablet.beats`). A worker drains it into each
``report_to_master`` message (every 3 s); a local runner drains it directly.

The report (``data["vigie"]``, see :meth:`Tally.drain`):

- ``ops``: ``{name: OpTally.to_json()}``, the operations since the last report;
- ``pid``, ``sockets_open``, ``sockets_peak`` (now and the process's peak), ``cpu`` (a
  fraction of one core since the last report), ``rss`` (resident memory now, bytes),
  ``gc_pause_max_ms`` (since the last report);
- ``offline_queued``: ``{centre: n}``, answers that had to wait in the offline queue (the
  server could not take them when given), counted once each, *cumulative* since the process
  started: the master keeps each source's latest and sums the sources;
- ``offline_pending``: ``{centre: n}``, answers in the offline queues now (not acknowledged
  yet); likewise the latest per source, summed.

At the end of the run a worker also ships its ledger of acknowledged answers to the master
(custom message :data:`~simulator.tablet.ledger.LEDGER_MESSAGE`, see
:mod:`simulator.run.reconcile`).
"""

from __future__ import annotations

import gc
import os
import socket
import time
from typing import Any

import gevent
import psutil

from simulator.record import OpTally
from simulator.settings import FailureKind, FleetCounters, TabletFailure
from simulator.tablet.api import HTTP_WAITS
from simulator.tablet.beats import BEATS, BeatBatch, Beats
from simulator.tablet.ledger import LEDGER, LEDGER_MESSAGE, Ledger

REPORT_KEY = "vigie"  # our entry in Locust's worker report dict
LAG_PROBE_S = 0.2  # the lag probe's sleep: late wake-ups are the process's own delay


def failure_kind(exc: BaseException) -> str:
    """The FailureKind value of an exception reported with a Locust request event."""
    if isinstance(exc, TabletFailure):
        return exc.kind.value
    if isinstance(exc, TimeoutError | socket.timeout):
        return FailureKind.TIMEOUT.value
    if isinstance(exc, ConnectionRefusedError | ConnectionResetError | BrokenPipeError):
        return FailureKind.REFUSED.value
    if "timeout" in type(exc).__name__.lower():
        return FailureKind.TIMEOUT.value
    return FailureKind.PROTOCOL.value


class Tally:
    """Operations since the last drain, by name; plus this process's sockets, CPU and memory."""

    def __init__(self, ledger: Ledger = LEDGER, beats: Beats = BEATS) -> None:
        self.ledger = ledger
        self.beats = beats
        self.ops: dict[str, OpTally] = {}
        self._process = psutil.Process(os.getpid())
        self._cpu_mark = self._cpu_now()
        self._cpu_ratio = 0.0
        self.gc_pause_max_ms = 0.0
        self._gc_started = 0.0
        self.lag_max_ms = 0.0
        psutil.cpu_percent(None)  # the first call only starts the machine's count

    def on_request(
        self,
        name: str,
        response_time: float | None = None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        tally = self.ops.get(name)
        if tally is None:
            tally = self.ops[name] = OpTally()
        tally.record(response_time, failure_kind(exception) if exception is not None else None)

    def on_beats(self, batch: BeatBatch) -> None:
        """Acknowledged heartbeats in bulk (:mod:`simulator.tablet.beats`)."""
        tally = self.ops.get(batch.name)
        if tally is None:
            tally = self.ops[batch.name] = OpTally()
        tally.count += batch.count
        tally.latency.merge(batch.buckets)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            pause = (time.perf_counter() - self._gc_started) * 1000.0
            self.gc_pause_max_ms = max(self.gc_pause_max_ms, pause)

    def drain(self) -> dict[str, Any]:
        """A msgpack-friendly report (string keys only), and a fresh start."""
        self.beats.flush()  # the heartbeats acknowledged since the last timer's flush
        ops, self.ops = self.ops, {}
        # Thousands of long-lived tablets make every full collection walk millions of
        # objects, a pause of seconds that every heartbeat in flight would measure as
        # server latency. What survived until now is moved out of the collector's sight.
        gc.freeze()
        gc_max, self.gc_pause_max_ms = self.gc_pause_max_ms, 0.0
        lag_max, self.lag_max_ms = self.lag_max_ms, 0.0
        waits = HTTP_WAITS.to_json()
        HTTP_WAITS.buckets.clear()
        return {
            "lag_ms": round(lag_max, 1),
            "host_cpu": round(psutil.cpu_percent(None) / 100, 3),
            "http_wait": waits,
            "gc_pause_max_ms": round(gc_max, 1),
            "pid": os.getpid(),
            "ops": {name: tally.to_json() for name, tally in ops.items()},
            "sockets_open": FleetCounters.sockets_open,
            "sockets_peak": FleetCounters.sockets_peak,
            "cpu": self._cpu(),
            "rss": int(self._process.memory_info().rss),
            "offline_queued": dict(self.ledger.queued_offline),
            "offline_pending": self.ledger.pending_by_centre(),
        }

    def _cpu_now(self) -> tuple[float, float]:
        times = self._process.cpu_times()
        return time.monotonic(), float(times.user + times.system)

    def _cpu(self) -> float:
        """This process's CPU since the last report, as a fraction of one core (over at
        least half a second: shorter spans are clock-tick noise)."""
        now, used = self._cpu_now()
        if now - self._cpu_mark[0] >= 0.5:
            self._cpu_ratio = max(0.0, (used - self._cpu_mark[1]) / (now - self._cpu_mark[0]))
            self._cpu_mark = (now, used)
        return self._cpu_ratio

    def probe_lag(self, rounds: int | None = None) -> None:
        """Sleep :data:`LAG_PROBE_S` again and again; keep the latest wake-up (a greenlet
        of the process, for as long as it runs; ``rounds`` bounds it for tests)."""
        done = 0
        while rounds is None or done < rounds:
            started = time.perf_counter()
            gevent.sleep(LAG_PROBE_S)
            late = (time.perf_counter() - started - LAG_PROBE_S) * 1000
            self.lag_max_ms = max(self.lag_max_ms, late)
            done += 1

    def install(self, events: Any, report_to_master: bool) -> None:
        events.request.add_listener(self.on_request)
        self.beats.add_sink(self.on_beats)
        gc.callbacks.append(self._on_gc)
        probe = gevent.spawn(self.probe_lag)
        events.quitting.add_listener(lambda **_: probe.kill(block=False))
        if report_to_master:

            def on_report(client_id: str, data: dict[str, Any]) -> None:
                data[REPORT_KEY] = self.drain()

            events.report_to_master.add_listener(on_report)
            events.test_stop.add_listener(self.ship_ledger)

    def ship_ledger(self, environment: Any, **_: Any) -> None:
        """On a worker, once its tablets are stopped: the ledger to the master, in parts
        (sent before Locust's ``client_stopped``, so the master has it when it stops)."""
        runner = environment.runner
        for chunk in self.ledger.chunks():
            runner.send_message(LEDGER_MESSAGE, chunk)
