"""The knee: how many tablets were connected when an SLO first broke, and why it broke.

Wave tallies say *which* wave failed; the once-a-second samples say *when* inside it.
For each SLO the samples can follow over time (heartbeat p99, the overall failure ratio,
websocket connect success) we look for the first sample of the failing wave where it is
broken over a short trailing window; the knee is the most tablets held up to that
moment. The cause is read from what happened in the seconds before it: which failure
kinds grew, and what the server's own metrics said (its connection cap and open
sockets, event-loop lag, 5xx counters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from simulator.certify.judge import WaveJudgement
from simulator.certify.slo import Slo, SloKind
from simulator.record import OP_HEARTBEAT, OP_WS_CONNECT, RunRecord, Sample
from simulator.settings import FailureKind

WINDOW_S = 10.0  # trailing window for rates and ratios over samples
MIN_OPS_IN_WINDOW = 20  # fewer operations than this say nothing about a ratio
CAUSE_WINDOW_S = 15.0  # how far back before the knee we look for a cause
EVENT_LOOP_LAG_HIGH_S = 0.1  # a server loop this late cannot answer heartbeats in time
SCRAPE_LAG_S = 3.0  # server figures for a moment arrive up to this much later
CAP_NEAR = 0.98  # websockets_open within 2% of the cap counts as "at the cap"

# Failure kinds a websocket connect can end with (samples count failures by kind only).
_CONNECT_KINDS = (FailureKind.CONNECTION_CAP.value, FailureKind.REFUSED.value)


class Cause(StrEnum):
    CONNECTION_CAP = "connection cap"
    SATURATION = "server saturation (event loop)"
    SERVER_ERRORS = "server errors"
    REFUSED = "connection refused"
    TIMEOUTS = "timeouts"
    DISCONNECTIONS = "dropped connections"
    PROTOCOL = "protocol errors"
    LATENCY = "latency"
    GENERATOR = "generator-bound"


@dataclass(frozen=True, slots=True)
class Knee:
    connected: int
    wave: int
    t: float  # seconds since run start
    cause: Cause
    detail: str  # one sentence for people: "the server refused ... (8,000)"
    slos: list[str]  # SLOs broken at the knee
    evidence: dict[str, float]

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


def find_knee(
    record: RunRecord,
    judgements: list[WaveJudgement],
    generator_limit: float,
) -> Knee | None:
    """The first SLO break of the run, or None when every wave met every SLO."""
    failing = next((j for j in judgements if not j.passed), None)
    if failing is None:
        return None
    samples = sorted(record.samples, key=lambda s: s.t)
    broken = failing.broken()
    in_wave = _wave_samples(samples, failing, judgements)

    at: Sample | None = None
    broken_now: list[Slo] = []
    for sample in in_wave:
        broken_now = [slo for slo in broken if _broken_at(slo, sample, samples)]
        if broken_now:
            at = sample
            break
    if at is None:
        # No SLO we can follow over time broke visibly (answer p99, say): place the knee
        # at the wave's busiest moment, which is when its tallies were filling up.
        broken_now = broken
        at = max(in_wave, key=lambda s: s.sockets_open, default=None)
    t = at.t if at is not None else failing.wave.started_at
    connected = max((s.sockets_open for s in samples if s.t <= t), default=0)
    cause, detail, evidence = diagnose(
        samples, t, broken_now, failing, generator_limit, knob_cap(record.server_knobs)
    )
    return Knee(
        connected=connected,
        wave=failing.wave.number,
        t=t,
        cause=cause,
        detail=detail,
        slos=[slo.name for slo in broken_now],
        evidence=evidence,
    )


def _wave_samples(
    samples: list[Sample], failing: WaveJudgement, judgements: list[WaveJudgement]
) -> list[Sample]:
    number = failing.wave.number
    tagged = [s for s in samples if s.wave == number]
    if tagged:
        return tagged
    # A runner that does not tag samples with their wave: fall back to the wave's span.
    later = [j.wave.started_at for j in judgements if j.wave.number > number]
    end = failing.wave.ended_at or min(later, default=float("inf"))
    return [s for s in samples if failing.wave.started_at <= s.t <= end]


def _window_start(samples: list[Sample], sample: Sample, width: float) -> Sample | None:
    """The last sample at least ``width`` seconds before ``sample`` (else the first one)."""
    before = [s for s in samples if s.t <= sample.t - width]
    if before:
        return before[-1]
    first = samples[0] if samples else None
    return first if first is not None and first.t < sample.t else None


def _delta(now: dict[str, int], then: dict[str, int], keys: tuple[str, ...] | None) -> int:
    names = now.keys() if keys is None else keys
    return sum(now.get(k, 0) - then.get(k, 0) for k in names)


def _broken_at(slo: Slo, sample: Sample, samples: list[Sample]) -> bool:
    """Whether ``slo`` is visibly broken over the window that ends at ``sample``."""
    if slo.kind is SloKind.LATENCY:
        # The runner tracks a rolling heartbeat p99 only; it bounds lower percentiles
        # from above, so it is used for p99 and beyond, not to judge a p50.
        if slo.op == OP_HEARTBEAT and (slo.quantile or 0) >= 0.99 and sample.hb_p99_ms:
            return not slo.passes(sample.hb_p99_ms)
        return False
    start = _window_start(samples, sample, WINDOW_S)
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


def diagnose(
    samples: list[Sample],
    t: float,
    broken: list[Slo],
    failing: WaveJudgement,
    generator_limit: float,
    declared_cap: float = 0.0,
) -> tuple[Cause, str, dict[str, float]]:
    """Name the cause of the break at ``t`` from the failures and server metrics before it."""
    window = [s for s in samples if t - CAUSE_WINDOW_S <= s.t <= t]
    last = window[-1] if window else None
    first = _window_start(samples, last, CAUSE_WINDOW_S) if last is not None else None

    grew: dict[str, int] = {}
    if last is not None and first is not None:
        grew = {
            k: last.failures.get(k, 0) - first.failures.get(k, 0)
            for k in last.failures
            if last.failures.get(k, 0) > first.failures.get(k, 0)
        }
    if not grew:  # no sample-level signal: the wave's own tallies
        grew = {k: n for k, n in failing.failures().items() if n > 0}

    # The server is scraped about once a second on its own schedule, so what it saw at
    # the knee lands in the next sample or two: its figures are read a little past t.
    seen = [s for s in samples if t - CAUSE_WINDOW_S <= s.t <= t + SCRAPE_LAG_S]
    s_last = seen[-1] if seen else None
    s_first = _window_start(samples, s_last, CAUSE_WINDOW_S + SCRAPE_LAG_S) if s_last else None
    # The scraped gauge is what the server enforced; the scenario's knob is the fallback
    # when the scrape said nothing.
    cap = max((figure(s, "connection_cap") for s in seen), default=0.0) or declared_cap
    ws_open = max((figure(s, "websockets_open") for s in seen), default=0.0)
    lag = max((figure(s, "event_loop_lag_p99_s") for s in seen), default=0.0)
    cap_rejections = _server_growth(s_first, s_last, "ws_rejections_cap_total")
    # The server counts its 503 connection_cap answers among its 5xx: those are the cap,
    # not errors. Injected faults are 5xx too, hence the max rather than a sum.
    server_5xx = max(
        _server_growth(s_first, s_last, "http_5xx_total") - cap_rejections,
        _server_growth(s_first, s_last, "injected_faults_total"),
    )
    hb_p99 = max((s.hb_p99_ms or 0.0 for s in window), default=0.0)
    evidence = {
        "connection_cap": cap,
        "server_websockets_open": ws_open,
        "event_loop_lag_p99_s": lag,
        "server_5xx": server_5xx,
        "server_cap_rejections": cap_rejections,
        "heartbeat_p99_ms": hb_p99,
        **{f"failures_{k}": float(n) for k, n in grew.items()},
    }
    hot = any(s.generator_cpu > generator_limit for s in window)

    if cap_rejections > 0:
        grew[FailureKind.CONNECTION_CAP.value] = max(
            grew.get(FailureKind.CONNECTION_CAP.value, 0), int(cap_rejections)
        )
    if server_5xx > 0:
        grew[FailureKind.HTTP_5XX.value] = max(
            grew.get(FailureKind.HTTP_5XX.value, 0), int(server_5xx)
        )
    failure_slo = any(slo.kind is not SloKind.LATENCY for slo in broken)
    dominant = max(grew, key=lambda k: grew[k]) if grew and (failure_slo or not broken) else None

    if dominant == FailureKind.CONNECTION_CAP:
        if cap > 0:
            at = f"at its connection cap ({cap:,.0f})"
            if ws_open and ws_open < cap * CAP_NEAR:
                at += f", with {ws_open:,.0f} sockets open on the server"
        else:
            at = "with 503 connection_cap"
        return Cause.CONNECTION_CAP, f"the server refused new connections {at}", evidence
    if dominant == FailureKind.REFUSED:
        return (
            Cause.REFUSED,
            "TCP connections to the server were refused (server down, listen backlog "
            "or file-descriptor limit)",
            evidence,
        )
    if dominant == FailureKind.HTTP_5XX:
        return Cause.SERVER_ERRORS, "the server answered with errors (5xx)", evidence
    if dominant == FailureKind.HTTP_4XX or dominant == FailureKind.PROTOCOL:
        return (
            Cause.PROTOCOL,
            "tablets and server disagreed on the protocol (unexpected 4xx or frames)",
            evidence,
        )
    latency = _latency_words(broken, hb_p99)
    if lag >= EVENT_LOOP_LAG_HIGH_S:
        return (
            Cause.SATURATION,
            f"the server was saturated{latency}: its event loop lagged {lag * 1000:,.0f} ms (p99)",
            evidence,
        )
    if hot:
        return (
            Cause.GENERATOR,
            f"the load generator itself ran out of CPU{latency}; the server showed no "
            "saturation, so this says nothing about the platform",
            evidence,
        )
    if dominant == FailureKind.TIMEOUT:
        return Cause.TIMEOUTS, "requests to the server timed out", evidence
    if dominant == FailureKind.DISCONNECTED:
        return Cause.DISCONNECTIONS, "open connections were dropped", evidence
    return (
        Cause.LATENCY,
        f"latency went over its objective{latency} with no cause visible in the server's metrics",
        evidence,
    )


def figure(sample: Sample, key: str) -> float:
    """A server figure of a sample; 0 when absent or not a number (a scrape can give NaN)."""
    value = sample.server.get(key, 0.0)
    return value if math.isfinite(value) else 0.0


def knob_cap(knobs: dict[str, object]) -> float:
    """The connection cap the scenario asked the server for (0: none)."""
    for key in ("max_connections", "connection_cap"):
        value = knobs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return 0.0


def _server_growth(first: Sample | None, last: Sample | None, key: str) -> float:
    if first is None or last is None:
        return 0.0
    return max(0.0, figure(last, key) - figure(first, key))


def _latency_words(broken: list[Slo], hb_p99: float) -> str:
    for slo in broken:
        if slo.kind is SloKind.LATENCY and slo.op == OP_HEARTBEAT and hb_p99:
            return f" (heartbeat p99 {hb_p99:,.0f} ms, objective {slo.threshold:,.0f} ms)"
    return ""
