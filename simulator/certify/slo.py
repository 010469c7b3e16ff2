"""SLO names as scenarios declare them, and what each one measures.

A scenario lists its SLOs as ``name: threshold``. Names follow three patterns, so a new
operation needs no code here:

* ``<op>_p<NN>_ms``: the NN-th latency percentile of ``op`` stays at or under the
  threshold (``heartbeat_p99_ms: 500``, ``answer_p95_ms: 800``);
* ``<op>_success_min``: the share of ``op`` attempts that succeeded stays at or above
  the threshold (``login_success_min: 0.999``); ``connection_success_min`` is the
  websocket connect (``ws_connect``) success;
* ``failure_ratio_max``: failed / attempted operations of every kind stays at or under
  the threshold; ``<op>_failure_ratio_max`` does it for one operation.

The scenario loader calls :func:`parse_slo` so that a typo is an error at load time,
not a silently ignored objective on exam-preparation day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from simulator.record import OP_NAMES, OP_WS_CONNECT


class SloKind(StrEnum):
    LATENCY = "latency"  # percentile of an op's latency, ms, upper bound
    SUCCESS = "success"  # success ratio of an op, lower bound
    FAILURE_RATIO = "failure_ratio"  # failure ratio (one op or all), upper bound


@dataclass(frozen=True, slots=True)
class Slo:
    name: str
    kind: SloKind
    threshold: float
    op: str | None  # None: every operation (the overall failure ratio)
    quantile: float | None = None  # latency SLOs: 0..1

    @property
    def upper_bound(self) -> bool:
        return self.kind is not SloKind.SUCCESS

    def passes(self, value: float) -> bool:
        return value <= self.threshold if self.upper_bound else value >= self.threshold

    def describe(self) -> str:
        """Plain words for people reading the report."""
        what = "all operations" if self.op is None else self.op.replace("_", " ")
        if self.kind is SloKind.LATENCY:
            assert self.quantile is not None
            return f"{what} p{_pct(self.quantile)} ≤ {self.threshold:,.0f} ms"
        if self.kind is SloKind.SUCCESS:
            return f"{what} success ≥ {self.threshold:.2%}"
        return f"{what} failures ≤ {self.threshold:.2%}"


_LATENCY = re.compile(r"^(?P<op>[a-z_]+?)_p(?P<pct>\d+(?:\.\d+)?)_ms$")
_SUCCESS = re.compile(r"^(?P<op>[a-z_]+?)_success_min$")
_FAILURE = re.compile(r"^(?:(?P<op>[a-z_]+?)_)?failure_ratio_max$")

# Friendlier names people write in scenarios, mapped to the op they mean.
_ALIASES = {"connection": OP_WS_CONNECT, "ws": OP_WS_CONNECT, "websocket": OP_WS_CONNECT}


def parse_slo(name: str, threshold: float) -> Slo:
    """The SLO a scenario key declares; ValueError with a clear message otherwise."""
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ValueError(f"SLO {name!r}: threshold must be a number, got {threshold!r}")
    if threshold < 0:
        raise ValueError(f"SLO {name!r}: threshold must not be negative, got {threshold}")
    if m := _LATENCY.match(name):
        pct = float(m["pct"])
        if not 0 < pct < 100:
            raise ValueError(f"SLO {name!r}: percentile must be between 0 and 100")
        return Slo(name, SloKind.LATENCY, float(threshold), _op(name, m["op"]), pct / 100)
    if m := _SUCCESS.match(name):
        if threshold > 1:
            raise ValueError(f"SLO {name!r}: a success ratio is between 0 and 1, got {threshold}")
        return Slo(name, SloKind.SUCCESS, float(threshold), _op(name, m["op"]))
    if m := _FAILURE.match(name):
        if threshold > 1:
            raise ValueError(f"SLO {name!r}: a failure ratio is between 0 and 1, got {threshold}")
        op = None if m["op"] is None else _op(name, m["op"])
        return Slo(name, SloKind.FAILURE_RATIO, float(threshold), op)
    raise ValueError(
        f"unknown SLO {name!r}: expected <op>_p<NN>_ms, <op>_success_min, failure_ratio_max "
        f"or <op>_failure_ratio_max, with op one of {', '.join(OP_NAMES)} (or 'connection')"
    )


def parse_slos(slos: dict[str, float]) -> list[Slo]:
    return [parse_slo(name, threshold) for name, threshold in slos.items()]


def _op(name: str, op: str) -> str:
    op = _ALIASES.get(op, op)
    if op not in OP_NAMES:
        raise ValueError(f"SLO {name!r}: unknown operation {op!r} (one of {', '.join(OP_NAMES)})")
    return op


def _pct(q: float) -> str:
    return f"{q * 100:g}"
