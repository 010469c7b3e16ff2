"""The knobs that reproduce real failures: fixed for the whole run (``vigie serve --latency-ms``
...) or timed, applied by an operator while a scenario runs (``POST /api/v1/operator/faults``).

Free of HTTP: the middleware asks :meth:`Faults.latency_ms` and :meth:`Faults.error_rate`, the
writer is told to stall, a launch asks :meth:`Faults.planned_dropped`; the clock is given, so
tests move time instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from vigie.protocol import ErrorCode
from vigie.wire.http import ActiveFault, FaultRequest
from vigie.wire.metrics import FaultKind

from .errors import ApiError

Clock = Callable[[], float]
MAX_FAULT_S = 3600.0


@dataclass(slots=True)
class _Timed:
    kind: FaultKind
    started_at: float
    until: float
    value: float  # ms for latency, a ratio for error_rate, nothing for db_stall
    centres: tuple[str, ...] = field(default=())  # drop_planned_extra_time: the centres


class Faults:
    def __init__(
        self,
        latency_ms: float,
        error_rate: float,
        stall: Callable[[float], None],
        clock: Clock = time.time,
    ) -> None:
        self._base = {FaultKind.LATENCY: latency_ms, FaultKind.ERROR: error_rate}
        self._stall = stall  # the writer's: commit nothing for this many seconds
        self._clock = clock
        self._timed: list[_Timed] = []

    def _current(self, kind: FaultKind, now: float) -> float:
        value = self._base[kind]
        for f in self._timed:
            if f.kind is kind and f.started_at <= now < f.until:
                value = max(value, f.value)
        return value

    def latency_ms(self) -> float:
        return self._current(FaultKind.LATENCY, self._clock())

    def error_rate(self) -> float:
        return self._current(FaultKind.ERROR, self._clock())

    def apply(self, req: FaultRequest) -> ActiveFault:
        """Start a timed fault now; it ends by itself after ``duration_s``."""
        now = self._clock()
        kind = FaultKind(req.kind)
        centres: tuple[str, ...] = ()
        if req.centres is not None and kind is not FaultKind.DROP_PLANNED:
            raise ApiError(ErrorCode.INVALID_REQUEST, f"A {kind.value} fault takes no centres.")
        value = 0.0
        if kind is FaultKind.LATENCY:
            value = _needs(req.ms, "ms", kind)
        elif kind is FaultKind.ERROR:
            value = _needs(req.ratio, "ratio", kind)
        elif kind is FaultKind.DROP_PLANNED:
            if not req.centres:
                raise ApiError(ErrorCode.INVALID_REQUEST, f"A {kind.value} fault needs centres.")
            centres = tuple(dict.fromkeys(req.centres))
        else:
            self._stall(req.duration_s)
        self._timed = [f for f in self._timed if f.until > now]
        fault = _Timed(kind, now, now + req.duration_s, value, centres)
        self._timed.append(fault)
        return _active(fault)

    def planned_dropped(self) -> frozenset[str]:
        """Centres whose launches forget the planned extra time now."""
        now = self._clock()
        return frozenset(
            code
            for f in self._timed
            if f.kind is FaultKind.DROP_PLANNED and f.started_at <= now < f.until
            for code in f.centres
        )

    def active(self) -> list[ActiveFault]:
        now = self._clock()
        return [_active(f) for f in self._timed if f.started_at <= now < f.until]


def _needs(value: float | None, name: str, kind: FaultKind) -> float:
    if value is None:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"A {kind.value} fault needs {name}.")
    return value


def _active(f: _Timed) -> ActiveFault:
    return ActiveFault(
        kind=f.kind, started_at=f.started_at, until=f.until, value=f.value, centres=list(f.centres)
    )
