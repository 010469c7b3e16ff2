"""The knee: how many tablets were connected when the platform first broke an SLO, and why.

Wave tallies say *which* wave failed; the once-a-second samples say *when* inside it.
For each SLO the samples can follow over time (heartbeat p99, the overall failure ratio,
websocket connect success) we look for the first sample of a failing wave where it is
broken over a short trailing window; the knee is the most tablets held up to that moment.
The cause is read from the seconds around it: which failure kinds grew, and what the
server's own metrics said (its connection cap and open sockets, event-loop lag, CPU, 5xx).

A break the test setup explains (the generator out of CPU, the machine running it
overloaded, while the server's loop kept answering in time) is not the platform's knee:
it is kept apart as a *measurement* break, the search goes on, and the run cannot
certify. On a shared machine this matters: heartbeats measured late by a starved
generator must not send engineers tuning a server that was idle.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from simulator.certify.judge import WaveJudgement
from simulator.certify.slo import Slo, SloKind
from simulator.record import OP_ANSWER, OP_HEARTBEAT, OP_WS_CONNECT, RunRecord, Sample
from simulator.settings import FailureKind

WINDOW_S = 10.0  # trailing window for rates and ratios over samples
MIN_OPS_IN_WINDOW = 20  # fewer operations than this say nothing about a ratio
CAUSE_WINDOW_S = 15.0  # how far back before the knee we look for a cause
SCRAPE_LAG_S = 3.0  # server figures for a moment arrive up to this much later
EVENT_LOOP_LAG_HIGH_S = 0.1  # a server loop this late cannot answer heartbeats in time
LOOP_SHARE = 0.5  # server lag explaining this share of the measured p99: the server's fault
SERVER_BUSY_CPU = 0.9  # server process CPU (fraction of a core): its one loop is full
GENERATOR_LAG_HIGH_MS = 100.0  # a generator loop this late reads frames late
# Calls held this long for a free pooled connection: the generator throttled its own load
# (the waits are left out of the response times, so the server saw less than was asked)
GENERATOR_WAIT_HIGH_MS = 100.0
HOST_BUSY_CPU = 0.9  # generator machine CPU (fraction of all cores): nothing left to give
CAP_NEAR = 0.98  # websockets_open within 2% of the cap counts as "at the cap"
SCRAPE_STALE_S = 5.0  # a server that has not answered its /metrics for this long is swamped
# The server's own answer p99 under this share of the objective, while the tablets measured
# it broken: the time went outside the server (histogram buckets are coarse: 2.5x at worst)
ANSWER_SERVER_SHARE = 0.25

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
    SLOW_ANSWERS = "slow answers (server)"
    GENERATOR = "generator-bound"
    HOST = "test machine overloaded"


#: Causes that are the test setup's, not the platform's.
MEASUREMENT_CAUSES = frozenset({Cause.GENERATOR, Cause.HOST})


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


def diagnose(  # noqa: C901 - one table of causes, read top to bottom, first match wins
    timeline: Timeline,
    t: float,
    broken: list[Slo],
    wave: WaveJudgement,
    generator_limit: float,
    declared_cap: float = 0.0,
) -> tuple[Cause, str, dict[str, float]]:
    """Name the cause of the break at ``t`` from the failures and metrics around it."""
    window = timeline.between(t - CAUSE_WINDOW_S, t)
    last = window[-1] if window else None
    first = timeline.start_of(last, CAUSE_WINDOW_S) if last is not None else None

    grew: dict[str, int] = {}
    if last is not None and first is not None:
        grew = {
            k: last.failures.get(k, 0) - first.failures.get(k, 0)
            for k in last.failures
            if last.failures.get(k, 0) > first.failures.get(k, 0)
        }
    if not grew:  # no sample-level signal: the wave's own tallies
        grew = {k: n for k, n in wave.failures().items() if n > 0}

    # The server is scraped about once a second on its own schedule, so what it saw at
    # the knee lands in the next sample or two: its figures are read a little past t.
    seen = timeline.between(t - CAUSE_WINDOW_S, t + SCRAPE_LAG_S)
    s_last = seen[-1] if seen else None
    s_first = timeline.start_of(s_last, CAUSE_WINDOW_S + SCRAPE_LAG_S) if s_last else None
    # The scraped gauge is what the server enforced; the scenario's knob is the fallback
    # when the scrape said nothing.
    cap = max((figure(s, "connection_cap") for s in seen), default=0.0) or declared_cap
    ws_open = max((figure(s, "websockets_open") for s in seen), default=0.0)
    lag = max((figure(s, "event_loop_lag_p99_s") for s in seen), default=0.0)
    server_cpu = max((figure(s, "cpu_ratio") for s in seen), default=0.0)
    cap_rejections = _server_growth(s_first, s_last, "ws_rejections_cap_total")
    # The server counts its 503 connection_cap answers among its 5xx: those are the cap,
    # not errors. Injected faults are 5xx too, hence the max rather than a sum.
    server_5xx = max(
        _server_growth(s_first, s_last, "http_5xx_total") - cap_rejections,
        _server_growth(s_first, s_last, "injected_faults_total"),
    )
    hb_p99 = max((s.hb_p99_ms or 0.0 for s in window), default=0.0)
    gen_cpu = max((_finite(s.generator_cpu) for s in window), default=0.0)
    gen_lag = max((_finite(s.generator_lag_ms) for s in window), default=0.0)
    gen_wait = max((_finite(s.http_wait_p99_ms) for s in window), default=0.0)
    host_cpu = max((_finite(s.host_cpu) for s in window), default=0.0)
    stale = max((figure(s, "scrape_age_s") for s in seen), default=0.0)
    answer_p99 = max((_finite(s.answer_p99_ms) for s in window), default=0.0)
    server_answer_ms = 1000 * max((figure(s, "answer_request_p99_s") for s in seen), default=0.0)
    commit_ms = 1000 * max((figure(s, "answer_commit_p99_s") for s in seen), default=0.0)
    evidence = {
        "connection_cap": cap,
        "server_websockets_open": ws_open,
        "event_loop_lag_p99_s": lag,
        "server_cpu": server_cpu,
        "server_5xx": server_5xx,
        "server_cap_rejections": cap_rejections,
        "heartbeat_p99_ms": hb_p99,
        "generator_cpu": gen_cpu,
        "generator_lag_ms": gen_lag,
        "generator_http_wait_p99_ms": gen_wait,
        "host_cpu": host_cpu,
        "server_scrape_age_s": stale,
        "answer_p99_ms": answer_p99,
        "server_answer_p99_ms": server_answer_ms,
        "server_answer_commit_p99_ms": commit_ms,
        **{f"failures_{k}": float(n) for k, n in grew.items()},
    }

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

    # Server-side evidence first: it stands whatever state the generator was in.
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

    # Latency (or timeouts, drops): whose clock ran late?
    words = _latency_words(broken, hb_p99)
    lag_ms = lag * 1000
    loop_explains = hb_p99 == 0 or lag_ms >= LOOP_SHARE * hb_p99
    host_busy = host_cpu >= HOST_BUSY_CPU
    # On a full machine a server that is not using its core lags because it waits for
    # one: that is the machine's doing, however late its loop.
    starved = host_busy and server_cpu < SERVER_BUSY_CPU
    if (
        not starved
        and lag >= EVENT_LOOP_LAG_HIGH_S
        and (loop_explains or server_cpu >= SERVER_BUSY_CPU)
    ):
        return Cause.SATURATION, _saturated(words, lag_ms, server_cpu), evidence
    # Answers: the server times each one itself (its answer route's histogram). Slow
    # there, the platform is slow, whatever the generator's state; quick there while the
    # tablets measured them slow, the time went between the two: in the generator.
    answer_slo = next((x for x in broken if x.op == OP_ANSWER and x.kind is SloKind.LATENCY), None)
    if answer_slo is not None and server_answer_ms > 0:
        if not answer_slo.passes(server_answer_ms):
            return (
                Cause.SLOW_ANSWERS,
                _slow_answers(answer_slo, server_answer_ms, commit_ms),
                evidence,
            )
        if server_answer_ms <= answer_slo.threshold * ANSWER_SERVER_SHARE and server_on_time(
            stale, lag
        ):
            return (
                Cause.GENERATOR,
                f"the tablets measured answers at {answer_p99:,.0f} ms (p99) while the server "
                f"handled them within {server_answer_ms:,.0f} ms (its own p99, event-loop lag "
                f"{lag_ms:,.0f} ms): the time went in the load generator (generator CPU "
                f"{gen_cpu:.0%} of a core, its loop {gen_lag:,.0f} ms late, machine CPU "
                f"{host_cpu:.0%}), so this measures the generator, not the platform",
                evidence,
            )
    # Calls also wait for a pooled connection when every one of them waits on a slow
    # server: the wait is the generator's only while the server answers its own /metrics
    # in time and its loop is on time.
    if gen_wait >= GENERATOR_WAIT_HIGH_MS and server_on_time(stale, lag):
        return (
            Cause.GENERATOR,
            f"the load generator held its own calls back{words}: they waited "
            f"{gen_wait:,.0f} ms (p99) for one of its pooled connections, so the server saw "
            "less load than the scenario asks: this measures the generator, not the platform",
            evidence,
        )
    hot_generator = gen_cpu > generator_limit or gen_lag >= GENERATOR_LAG_HIGH_MS
    if hot_generator and server_on_time(stale, lag):
        return (
            Cause.GENERATOR,
            f"the load generator itself was short of CPU{words} (generator CPU "
            f"{gen_cpu:.0%} of a core) while the server's loop answered within "
            f"{lag_ms:,.0f} ms: this measures the generator, not the platform",
            evidence,
        )
    if host_busy:
        return (
            Cause.HOST,
            f"the test machine was overloaded{words} (CPU {host_cpu:.0%} of all cores) while "
            f"the server used only {server_cpu:.0%} of a core (event-loop lag "
            f"{lag_ms:,.0f} ms): server and generator waited for CPU, so this measures the "
            "machine, not the platform",
            evidence,
        )
    if lag >= EVENT_LOOP_LAG_HIGH_S:
        return Cause.SATURATION, _saturated(words, lag_ms, server_cpu), evidence
    if stale >= SCRAPE_STALE_S:
        # Its figures froze when it stopped answering: the lag it last reported is old news.
        return (
            Cause.SATURATION,
            f"the server was saturated{words}: it did not answer its own /metrics for "
            f"{stale:,.0f} s while the tablets' requests waited",
            evidence,
        )
    if dominant == FailureKind.TIMEOUT:
        return Cause.TIMEOUTS, "requests to the server timed out", evidence
    if dominant == FailureKind.DISCONNECTED:
        return Cause.DISCONNECTIONS, "open connections were dropped", evidence
    return (
        Cause.LATENCY,
        f"latency went over its objective{words} with no cause visible in the server's metrics",
        evidence,
    )


def server_on_time(stale: float, lag: float) -> bool:
    """The server answers its own /metrics in time and its loop is on time."""
    return stale < SCRAPE_STALE_S and lag < EVENT_LOOP_LAG_HIGH_S


def _slow_answers(slo: Slo, server_ms: float, commit_ms: float) -> str:
    text = (
        f"the server was slow to store answers: {server_ms:,.0f} ms (p99, its own "
        f"measurement; objective {slo.threshold:,.0f} ms)"
    )
    if commit_ms >= server_ms / 2:
        text += f", most of it waiting for the database's commit ({commit_ms:,.0f} ms p99)"
    return text


def _saturated(words: str, lag_ms: float, server_cpu: float) -> str:
    text = f"the server was saturated{words}: its event loop lagged {lag_ms:,.0f} ms (p99)"
    if 0 < server_cpu < 0.5:
        # A late loop on an idle process is blocked (disk, locks) or starved by others.
        text += (
            f" while it used only {server_cpu:.0%} of a core (blocked on I/O, or starved "
            "of CPU by other processes)"
        )
    return text


def figure(sample: Sample, key: str) -> float:
    """A server figure of a sample; 0 when absent or not a number (a scrape can give NaN)."""
    return _finite(sample.server.get(key))


def _finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else 0.0


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
