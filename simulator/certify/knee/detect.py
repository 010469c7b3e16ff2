"""Finding the knee: the first sample of a failing wave where an SLO that the samples can
follow over time (heartbeat p99, the overall failure ratio, websocket connect success) is
broken over a short trailing window. The knee is the most tablets held up to that moment;
its cause comes from :mod:`.cause`.

A break whose cause is the test setup's is kept apart as a measurement break, and the
search goes on: the platform's knee is the first break the platform itself explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.certify.judge import WaveJudgement
from simulator.certify.knee.cause import MEASUREMENT_CAUSES, Cause, diagnose
from simulator.certify.knee.figures import Timeline, knob_cap
from simulator.certify.slo import Slo, SloKind
from simulator.record import OP_ANSWER, OP_HEARTBEAT, OP_WS_CONNECT, RunRecord, Sample
from simulator.settings import FailureKind

WINDOW_S = 10.0  # trailing window for rates and ratios over samples
MIN_OPS_IN_WINDOW = 20  # fewer operations than this say nothing about a ratio

# Failure kinds a websocket connect can end with (samples count failures by kind only).
_CONNECT_KINDS = (FailureKind.CONNECTION_CAP.value, FailureKind.REFUSED.value)


@dataclass(frozen=True, slots=True)
class Knee:
    connected: int
    wave: int
    t: float  # seconds since run start
    cause: Cause
    detail: str  # one sentence for people: "the server refused ... (8,000)"
    slos: list[str]  # SLOs broken at the knee
    evidence: dict[str, float]

    @property
    def measurement(self) -> bool:
        return self.cause in MEASUREMENT_CAUSES

    def to_json(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "wave": self.wave,
            "t": self.t,
            "cause": self.cause.value,
            "cause_code": self.cause.name.lower(),
            "detail": self.detail,
            "slos": list(self.slos),
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class KneeSearch:
    knee: Knee | None  # the platform's first break
    measurement: list[Knee] = field(default_factory=list)  # setup breaks, first per wave


def find_knee(
    record: RunRecord,
    judgements: list[WaveJudgement],
    generator_limit: float,
) -> KneeSearch:
    """The platform's first SLO break (None when every wave met every SLO, or when only
    the test setup broke), and the breaks the test setup explains."""
    timeline = Timeline(record.samples)
    declared_cap = knob_cap(record.server_knobs)
    measurement: list[Knee] = []

    def knee_at(t: float, broken: list[Slo], wave: WaveJudgement) -> Knee:
        cause, detail, evidence = diagnose(timeline, t, broken, wave, generator_limit, declared_cap)
        connected = max((s.sockets_open for s in timeline.until(t)), default=0)
        if cause is Cause.CONNECTION_CAP:
            # The cap is the server's count, and the fleet's lags it by a heartbeat or so on
            # a loaded generator: the knee is where the server stopped, not where we looked.
            connected = max(connected, int(evidence.get("server_websockets_open", 0)))
        return Knee(
            connected, wave.wave.number, t, cause, detail, [s.name for s in broken], evidence
        )

    for wave in judgements:
        if wave.passed:
            continue
        broken = wave.broken()
        # An injected fault's window is judged by its recovery: never the platform's knee.
        in_wave = [
            s
            for s in _wave_samples(timeline, wave, judgements)
            if not any(f.in_window(s.t) for f in record.faults)
        ]
        followed = False
        setup_break: Knee | None = None
        for sample in in_wave:
            now = [slo for slo in broken if _broken_at(slo, sample, timeline)]
            if not now:
                continue
            followed = True
            knee = knee_at(sample.t, now, wave)
            if not knee.measurement:
                return KneeSearch(knee, measurement)
            if setup_break is None:
                setup_break = knee
                measurement.append(knee)
        if followed:
            continue  # every visible break of this wave was the setup's
        # No SLO we can follow over time broke visibly (answer p99, say): place the knee
        # at the wave's busiest moment, which is when its tallies were filling up.
        busiest = max(in_wave, key=lambda s: s.sockets_open, default=None)
        knee = knee_at(busiest.t if busiest else wave.wave.started_at, broken, wave)
        if not knee.measurement:
            return KneeSearch(knee, measurement)
        measurement.append(knee)
    return KneeSearch(None, measurement)


def _wave_samples(
    timeline: Timeline, wave: WaveJudgement, judgements: list[WaveJudgement]
) -> list[Sample]:
    number = wave.wave.number
    tagged = [s for s in timeline.samples if s.wave == number]
    if tagged:
        return tagged
    # A runner that does not tag samples with their wave: fall back to the wave's span.
    later = [j.wave.started_at for j in judgements if j.wave.number > number]
    end = wave.wave.ended_at or min(later, default=float("inf"))
    return timeline.between(wave.wave.started_at, end)


def _delta(now: dict[str, int], then: dict[str, int], keys: tuple[str, ...] | None) -> int:
    names = now.keys() if keys is None else keys
    return sum(now.get(k, 0) - then.get(k, 0) for k in names)


def _broken_at(slo: Slo, sample: Sample, timeline: Timeline) -> bool:
    """Whether ``slo`` is visibly broken over the window that ends at ``sample``."""
    if slo.kind is SloKind.LATENCY:
        # The runner tracks a rolling heartbeat p99 only; it bounds lower percentiles
        # from above, so it is used for p99 and beyond, not to judge a p50.
        if slo.op == OP_HEARTBEAT and (slo.quantile or 0) >= 0.99 and sample.hb_p99_ms:
            return not slo.passes(sample.hb_p99_ms)
        if slo.op == OP_ANSWER and (slo.quantile or 0) >= 0.99 and sample.answer_p99_ms:
            return not slo.passes(sample.answer_p99_ms)
        return False
    start = timeline.start_of(sample, WINDOW_S)
    if start is None:
        return False
    if slo.op is None:
        attempts = _delta(sample.requests, start.requests, None)
        failed = _delta(sample.failures, start.failures, None)
    elif slo.op == OP_WS_CONNECT:
        attempts = _delta(sample.requests, start.requests, (OP_WS_CONNECT,))
        failed = _delta(sample.failures, start.failures, _CONNECT_KINDS)
    else:
        return False
    if attempts < MIN_OPS_IN_WINDOW:
        return False
    ratio = min(1.0, max(0.0, failed / attempts))
    return not slo.passes(1.0 - ratio if slo.kind is SloKind.SUCCESS else ratio)
