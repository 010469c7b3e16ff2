"""The generator watches itself: a run whose load generator ran out of CPU measured the
generator, not the platform, and must never certify anything.

Short spikes happen (a spawn burst, a GC pause on a loaded machine); only CPU held above
the limit for ``sustain_s`` seconds marks the run as generator-bound.

Its memory is reported, never judged: the peak of all its processes together and what
that is per tablet, the figure that says whether a bigger fleet fits the test machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.record import Sample

DEFAULT_CPU_LIMIT = 0.8  # fraction of one core, per generator process
DEFAULT_SUSTAIN_S = 5.0


@dataclass(frozen=True, slots=True)
class GeneratorLoad:
    limit: float
    sustain_s: float
    peak_cpu: float
    seconds_over: float  # total time spent above the limit (sample spacing)
    bound_from: float | None  # start of the first sustained stretch above the limit
    peak_rss_mb: float | None = None  # all generator processes together; None: not measured
    tablets_at_rss_peak: int = 0  # most tablets connected until that peak (or Locust users)

    @property
    def bound(self) -> bool:
        return self.bound_from is not None

    @property
    def rss_per_tablet_kib(self) -> float | None:
        if self.peak_rss_mb is None or not self.tablets_at_rss_peak:
            return None
        return self.peak_rss_mb * 1024 / self.tablets_at_rss_peak

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "sustain_s": self.sustain_s,
            "peak_cpu": self.peak_cpu,
            "seconds_over": self.seconds_over,
            "bound": self.bound,
            "bound_from": self.bound_from,
            "peak_rss_mb": self.peak_rss_mb,
            "tablets_at_rss_peak": self.tablets_at_rss_peak,
            "rss_per_tablet_kib": _round(self.rss_per_tablet_kib),
        }


def generator_load(
    samples: list[Sample],
    limit: float = DEFAULT_CPU_LIMIT,
    sustain_s: float = DEFAULT_SUSTAIN_S,
) -> GeneratorLoad:
    ordered = sorted(samples, key=lambda s: s.t)
    seconds_over = 0.0
    bound_from: float | None = None
    stretch_start: float | None = None
    for prev, cur in zip([None, *ordered], ordered, strict=False):
        if cur.generator_cpu > limit:
            if stretch_start is None:
                stretch_start = cur.t
            if prev is not None and prev.generator_cpu > limit:
                seconds_over += cur.t - prev.t
            if bound_from is None and cur.t - stretch_start >= sustain_s:
                bound_from = stretch_start
        else:
            stretch_start = None
    measured = [s for s in ordered if s.generator_rss_mb is not None]
    peak = max(measured, key=lambda s: s.generator_rss_mb or 0.0, default=None)
    # A process rarely gives memory back: the peak holds the largest fleet seen until then,
    # even when it comes after the tablets have left (the last sample, at the stop).
    tablets = 0
    if peak is not None:
        tablets = max(s.sockets_open or s.users for s in ordered if s.t <= peak.t)
    return GeneratorLoad(
        limit=limit,
        sustain_s=sustain_s,
        peak_cpu=max((s.generator_cpu for s in ordered), default=0.0),
        seconds_over=seconds_over,
        bound_from=bound_from,
        peak_rss_mb=None if peak is None else peak.generator_rss_mb,
        tablets_at_rss_peak=tablets,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def hot_between(samples: list[Sample], t0: float, t1: float, limit: float) -> bool:
    """Whether the generator was above its limit at some point in [t0, t1]."""
    return any(t0 <= s.t <= t1 and s.generator_cpu > limit for s in samples)
