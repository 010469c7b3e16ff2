"""The generator watches itself: a run whose load generator ran out of CPU measured the
generator, not the platform, and must never certify anything.

Short spikes happen (a spawn burst, a GC pause on a loaded machine); only CPU held above
the limit for ``sustain_s`` seconds marks the run as generator-bound.
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

    @property
    def bound(self) -> bool:
        return self.bound_from is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "sustain_s": self.sustain_s,
            "peak_cpu": self.peak_cpu,
            "seconds_over": self.seconds_over,
            "bound": self.bound,
            "bound_from": self.bound_from,
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
    return GeneratorLoad(
        limit=limit,
        sustain_s=sustain_s,
        peak_cpu=max((s.generator_cpu for s in ordered), default=0.0),
        seconds_over=seconds_over,
        bound_from=bound_from,
    )


def hot_between(samples: list[Sample], t0: float, t1: float, limit: float) -> bool:
    """Whether the generator was above its limit at some point in [t0, t1]."""
    return any(t0 <= s.t <= t1 and s.generator_cpu > limit for s in samples)
