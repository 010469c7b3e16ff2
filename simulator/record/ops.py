"""What one operation measured: the operation names, and per name a tally of attempts,
failures by kind and the successful ones' latencies (in Locust's own histogram form).

Stdlib only, like the whole record: imported by gevent-patched Locust processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Operation names the tablets report (Locust request ``name``s).
OP_LOGIN = "login"
OP_PACKAGE = "package"
OP_KEY = "key"
OP_QUESTION = "question"
OP_ANSWER = "answer"
OP_WS_CONNECT = "ws_connect"
OP_HEARTBEAT = "heartbeat"
OP_FINISH = "finish"
OP_NAMES: tuple[str, ...] = (
    OP_LOGIN,
    OP_PACKAGE,
    OP_KEY,
    OP_QUESTION,
    OP_ANSWER,
    OP_WS_CONNECT,
    OP_HEARTBEAT,
    OP_FINISH,
)


def bucket_ms(ms: float) -> int:
    """Locust's rounding (~2 significant digits): keeps histograms small enough to ship
    from workers to the master every few seconds, and lets us merge Locust's own dicts."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    if ms < 10000:
        return int(round(ms, -2))
    return int(round(ms, -3))


@dataclass
class LatencyHistogram:
    """Latencies in Locust's representation: rounded milliseconds -> count."""

    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, ms: float, n: int = 1) -> None:
        key = bucket_ms(ms)
        self.buckets[key] = self.buckets.get(key, 0) + n

    def merge(self, other: LatencyHistogram | Mapping[int, int]) -> None:
        """Add another histogram (or a Locust ``response_times`` dict) into this one."""
        items = other.buckets if isinstance(other, LatencyHistogram) else other
        for key, n in items.items():
            self.buckets[key] = self.buckets.get(key, 0) + n

    def count(self) -> int:
        return sum(self.buckets.values())

    def percentile(self, q: float) -> float | None:
        """The latency (ms) that a fraction ``q`` (0..1) of the operations finished
        within, as Locust computes it; None when there is nothing to rank."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"percentile q must be in 0..1, got {q}")
        total = self.count()
        if total == 0:
            return None
        # Same walk as locust.stats.calculate_response_time_percentile, so our figures
        # match the ones people read in Locust's UI for the same data.
        within = int(total * q)
        seen = 0
        for key in sorted(self.buckets, reverse=True):
            seen += self.buckets[key]
            if total - seen <= within:
                return float(key)
        return float(min(self.buckets))

    def max(self) -> float | None:
        return float(max(self.buckets)) if self.buckets else None

    def to_json(self) -> dict[str, int]:
        return {str(k): n for k, n in sorted(self.buckets.items())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LatencyHistogram:
        return cls({int(k): int(n) for k, n in data.items()})


@dataclass
class OpTally:
    """One operation name within one wave.

    ``count`` is every attempt, failed ones included (like Locust's ``num_requests``);
    ``failures`` counts the failed ones by ``simulator.settings.FailureKind`` value;
    ``latency`` holds successful operations only, so that fast refusals (a 503 at the
    connection cap answers in a millisecond) cannot make a latency SLO look better.
    """

    count: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)

    def record(self, ms: float | None, failure: str | None = None) -> None:
        """One attempt: a success with its latency, or a failure of kind ``failure``."""
        self.count += 1
        if failure is not None:
            self.failures[failure] = self.failures.get(failure, 0) + 1
        elif ms is not None:
            self.latency.add(ms)

    def failed(self) -> int:
        return sum(self.failures.values())

    def succeeded(self) -> int:
        return self.count - self.failed()

    def merge(self, other: OpTally) -> None:
        self.count += other.count
        for kind, n in other.failures.items():
            self.failures[kind] = self.failures.get(kind, 0) + n
        self.latency.merge(other.latency)

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "failures": dict(self.failures),
            "latency": self.latency.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OpTally:
        return cls(
            count=int(data.get("count", 0)),
            failures={str(k): int(v) for k, v in data.get("failures", {}).items()},
            latency=LatencyHistogram.from_json(data.get("latency", {})),
        )
