"""Judge each wave's SLOs from its operation tallies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.certify.slo import Slo, SloKind
from simulator.record import OpTally, WaveRecord

PERCENTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class SloResult:
    slo: Slo
    value: float | None  # None: nothing to measure in this wave (no such operation)
    basis: int  # operations the figure rests on

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.slo.passes(self.value)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.slo.kind.value,
            "op": self.slo.op,
            "threshold": self.slo.threshold,
            "value": self.value,
            "basis": self.basis,
            "passed": self.passed,
            "describe": self.slo.describe(),
        }


@dataclass(frozen=True, slots=True)
class OpSummary:
    count: int
    failed: int
    failures: dict[str, int]
    percentiles_ms: dict[str, float | None]  # "p50", "p95", "p99"
    max_ms: float | None

    @classmethod
    def of(cls, tally: OpTally) -> OpSummary:
        return cls(
            count=tally.count,
            failed=tally.failed(),
            failures=dict(tally.failures),
            percentiles_ms={_pname(q): tally.latency.percentile(q) for q in PERCENTILES},
            max_ms=tally.latency.max(),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "failed": self.failed,
            "failures": self.failures,
            **{f"{k}_ms": v for k, v in self.percentiles_ms.items()},
            "max_ms": self.max_ms,
        }


@dataclass(frozen=True, slots=True)
class WaveJudgement:
    wave: WaveRecord
    results: dict[str, SloResult]
    ops: dict[str, OpSummary] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        # An SLO with nothing to measure in this wave does not fail it; the run-level
        # check (every SLO measured somewhere) keeps that from certifying an empty run.
        return all(r.passed is not False for r in self.results.values())

    def broken(self) -> list[Slo]:
        return [r.slo for r in self.results.values() if r.passed is False]

    def failures(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for op in self.ops.values():
            for kind, n in op.failures.items():
                total[kind] = total.get(kind, 0) + n
        return total

    def to_json(self) -> dict[str, Any]:
        w = self.wave
        return {
            "number": w.number,
            "name": w.name,
            "centres": list(w.centres),
            "planned_tablets": w.planned_tablets,
            "started_at": w.started_at,
            "ended_at": w.ended_at,
            "passed": self.passed,
            "slos": {name: r.to_json() for name, r in self.results.items()},
            "failures": self.failures(),
            "ops": {name: op.to_json() for name, op in self.ops.items()},
        }


def measure(slo: Slo, ops: dict[str, OpTally]) -> SloResult:
    """The figure an SLO is judged on, from one wave's tallies."""
    if slo.kind is SloKind.LATENCY:
        assert slo.op is not None and slo.quantile is not None
        tally = ops.get(slo.op)
        if tally is None or tally.latency.count() == 0:
            return SloResult(slo, None, 0)
        return SloResult(slo, tally.latency.percentile(slo.quantile), tally.latency.count())
    if slo.op is None:  # overall failure ratio
        attempts = sum(t.count for t in ops.values())
        failed = sum(t.failed() for t in ops.values())
    else:
        tally = ops.get(slo.op, OpTally())
        attempts, failed = tally.count, tally.failed()
    if attempts == 0:
        return SloResult(slo, None, 0)
    ratio = failed / attempts
    value = 1.0 - ratio if slo.kind is SloKind.SUCCESS else ratio
    return SloResult(slo, value, attempts)


def judge_wave(wave: WaveRecord, slos: list[Slo]) -> WaveJudgement:
    return WaveJudgement(
        wave=wave,
        results={slo.name: measure(slo, wave.ops) for slo in slos},
        ops={name: OpSummary.of(t) for name, t in sorted(wave.ops.items())},
    )


def judge_waves(waves: list[WaveRecord], slos: list[Slo]) -> list[WaveJudgement]:
    return [judge_wave(w, slos) for w in sorted(waves, key=lambda w: w.number)]


def _pname(q: float) -> str:
    return f"p{q * 100:g}"
