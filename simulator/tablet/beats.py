"""Acknowledged heartbeats, counted in bulk rather than one Locust request event each.

A heartbeat is the fleet's most frequent operation (12,000 tablets every 5 s: 2,400 a
second per generator). Firing Locust's ``request`` event for each one cost about as much
as the rest of the heartbeat's Python path together (py-spy on ``bench/fleet_heartbeat.py``:
the event, Locust's two ``StatsEntry.log`` calls and our tally's ``on_request``). So a
successful heartbeat only lands in this process's :data:`BEATS`, a histogram keyed by
Locust's own rounding (:func:`simulator.record.bucket_ms`); its sinks get the batch:

- about once a second (a libev timer in the hub, started by the first heartbeat);
- whenever a sink asks (:meth:`Beats.flush`: the tally drains it before each report,
  and Locust's ``test_stop`` flushes it before a worker's last stats go to the master).

Counts are exact. What a batch loses is only the heartbeat's second within the batch:
Locust's requests-per-second chart sees a batch at the second it is flushed. Failed
heartbeats (timeouts, closed sockets) are rare and keep their own request event, with
their exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent

from simulator.record import bucket_ms

#: Seconds between two flushes by the timer.
FLUSH_EVERY_S = 1.0


@dataclass(slots=True)
class BeatBatch:
    """Heartbeats of one operation since the last flush."""

    rtype: str
    name: str
    count: int = 0
    total_ms: float = 0.0
    min_ms: float = float("inf")
    max_ms: float = 0.0
    length: int = 0
    buckets: dict[int, int] = field(default_factory=dict)


#: Called with every non-empty batch.
Sink = Callable[[BeatBatch], None]


class Beats:
    """The process's pending heartbeats, by operation name, and where they go."""

    def __init__(self) -> None:
        self._pending: dict[str, BeatBatch] = {}
        self._sinks: list[Sink] = []
        self._timer: Any = None
        self._environment: Any = None
        self._locust: Sink | None = None

    def add_sink(self, sink: Sink) -> None:
        if sink not in self._sinks:
            self._sinks.append(sink)

    def remove_sink(self, sink: Sink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def bind_locust(self, environment: Any) -> None:
        """Send the batches to this Locust environment's stats, and flush at its
        ``test_stop`` (idempotent; a new environment replaces the previous one)."""
        if environment is self._environment:
            return
        if self._locust is not None:
            self.remove_sink(self._locust)
        self._environment = environment
        self._locust = locust_sink(environment.stats)
        self.add_sink(self._locust)
        environment.events.test_stop.add_listener(self.flush)

    def add(self, rtype: str, name: str, ms: float, length: int) -> None:
        """One acknowledged heartbeat (hot path: a few dict and float operations)."""
        batch = self._pending.get(name)
        if batch is None:
            batch = self._pending[name] = BeatBatch(rtype, name)
            self._arm()
        key = round(ms) if ms < 100 else bucket_ms(ms)
        buckets = batch.buckets
        buckets[key] = buckets.get(key, 0) + 1
        batch.count += 1
        batch.total_ms += ms
        batch.length += length
        if ms > batch.max_ms:
            batch.max_ms = ms
        if ms < batch.min_ms:
            batch.min_ms = ms

    def flush(self, **_: Any) -> None:
        """Hand every pending batch to the sinks (also a Locust event listener)."""
        pending, self._pending = self._pending, {}
        for batch in pending.values():
            for sink in list(self._sinks):
                sink(batch)

    def _arm(self) -> None:
        if self._timer is None:
            # ref=False: a process waiting for its greenlets to end is not held by it
            loop = gevent.get_hub().loop
            self._timer = loop.timer(FLUSH_EVERY_S, FLUSH_EVERY_S, ref=False)
            self._timer.start(self.flush)


BEATS = Beats()


def locust_sink(stats: Any) -> Sink:
    """A sink that adds each batch to Locust's stats as that many requests (the entry
    of the operation and the total), through Locust's own merge, ``StatsEntry.extend``."""
    from locust.stats import StatsEntry

    def sink(batch: BeatBatch) -> None:
        now = time.time()
        # Any: Locust annotates its sums as ints but adds what request events carry
        # (float milliseconds), as we do here.
        part: Any = StatsEntry(stats, batch.name, batch.rtype, use_response_times_cache=False)
        part.num_requests = batch.count
        part.total_response_time = batch.total_ms
        part.min_response_time = batch.min_ms
        part.max_response_time = batch.max_ms
        part.total_content_length = batch.length
        part.response_times = dict(batch.buckets)
        part.num_reqs_per_sec = {int(now): batch.count}
        part.last_request_timestamp = now
        stats.get(batch.name, batch.rtype).extend(part)
        stats.total.extend(part)

    return sink
