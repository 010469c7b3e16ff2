"""The cyclic garbage collector's pauses, measured and kept short.

While the collector runs, the event loop stands still and every heartbeat in flight waits
(``vigie_gc_pause_seconds``). With thousands of tablets connected the server holds
millions of long-lived objects (sockets, their parsers and compressors, the candidates'
state), and a full collection walks all of them: measured in the 2022 replay, 18 full
collections of 0.8 s on average (14.3 s in all), each one a heartbeat p99 spike (the
"periodic spikes" past 8,000 tablets).

So every ``gc_freeze_every_s`` what survived is moved out of the collector's sight
(``gc.freeze()``, constant time): collections then walk only what was allocated since.
The price: a reference cycle that dies after it was frozen is never reclaimed. Measured
with aiohttp websockets opened and closed (server and client in one process), a closed
connection leaves ~15 objects, ~1 KiB, in cycles: ~50 MiB for 50,000 reconnects (the
process's resident memory shows it), against a second of silence on every tablet at each
full collection. ``vigie_gc_freezes_total`` counts the freezes. How many objects are frozen
is not shown: ``gc.get_freeze_count()`` walks them all, and at 12,000 tablets that walk held
the loop ~0.4 s at every freeze (py-spy, ``bench/server_heartbeat.py --profile``): the
heartbeat p99 of 95-145 ms against 4-6 ms for a bare echo.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Histogram


class GcWatch:
    """A ``gc.callbacks`` hook that times each collection into a histogram."""

    def __init__(self, pauses: Histogram, clock: Callable[[], float] = time.perf_counter) -> None:
        self.pauses = pauses
        self.clock = clock
        self._started = 0.0
        self.longest_s = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self.clock()
        elif self._started:
            pause = self.clock() - self._started
            self._started = 0.0
            self.longest_s = max(self.longest_s, pause)
            self.pauses.labels(str(info.get("generation", ""))).observe(pause)

    def install(self) -> None:
        gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


async def freeze_every(every_s: float, freezes: Counter | None = None) -> None:
    """Freeze what survived, every ``every_s`` seconds, for as long as the server runs.

    ``gc.freeze()`` is constant time (it splices lists); anything that counts the frozen
    objects is not, so nothing here does."""
    while True:
        await asyncio.sleep(every_s)
        gc.freeze()
        if freezes is not None:
            freezes.inc()
