"""The samples in time order, and the figures the knee reads from them.

Shared by the detection (when did an SLO break) and the cause (what the server said then).
"""

from __future__ import annotations

import bisect
import math

from simulator.record import Sample


class Timeline:
    """The samples in time order, with windows found by bisection (runs hold ~1,000)."""

    def __init__(self, samples: list[Sample]) -> None:
        self.samples = sorted(samples, key=lambda s: s.t)
        self._ts = [s.t for s in self.samples]

    def between(self, t0: float, t1: float) -> list[Sample]:
        return self.samples[bisect.bisect_left(self._ts, t0) : bisect.bisect_right(self._ts, t1)]

    def until(self, t: float) -> list[Sample]:
        return self.samples[: bisect.bisect_right(self._ts, t)]

    def start_of(self, sample: Sample, width: float) -> Sample | None:
        """The last sample at least ``width`` s before ``sample`` (else the first one)."""
        i = bisect.bisect_right(self._ts, sample.t - width)
        if i > 0:
            return self.samples[i - 1]
        first = self.samples[0] if self.samples else None
        return first if first is not None and first.t < sample.t else None


def figure(sample: Sample, key: str) -> float:
    """A server figure of a sample; 0 when absent or not a number (a scrape can give NaN)."""
    return finite(sample.server.get(key))


def finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else 0.0


def knob_cap(knobs: dict[str, object]) -> float:
    """The connection cap the scenario asked the server for (0: none)."""
    for key in ("max_connections", "connection_cap"):
        value = knobs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return 0.0


def server_growth(first: Sample | None, last: Sample | None, key: str) -> float:
    """How much a server counter grew from ``first`` to ``last`` (0 without both)."""
    if first is None or last is None:
        return 0.0
    return max(0.0, figure(last, key) - figure(first, key))
