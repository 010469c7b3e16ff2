"""The cause of a break: which failure kinds grew around it, and what the server's own
metrics said (its connection cap and open sockets, event-loop lag, CPU, 5xx).

The causes are one table read top to bottom, first match wins: server-side evidence
first, then whose clock ran late. A break the test setup explains (the generator out of
CPU, the machine running it overloaded) gets a *measurement* cause, never the platform's.
"""

from __future__ import annotations

from enum import StrEnum

from simulator.certify.judge import WaveJudgement
from simulator.certify.knee import wording
from simulator.certify.knee.figures import Timeline, figure, finite, server_growth
from simulator.certify.slo import Slo, SloKind
from simulator.record import OP_ANSWER
from simulator.settings import FailureKind

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
SCRAPE_STALE_S = 5.0  # a server that has not answered its /metrics for this long is swamped
# The server's own answer p99 under this share of the objective, while the tablets measured
# it broken: the time went outside the server (histogram buckets are coarse: 2.5x at worst)
ANSWER_SERVER_SHARE = 0.25


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
    cap_rejections = server_growth(s_first, s_last, "ws_rejections_cap_total")
    # The server counts its 503 connection_cap answers among its 5xx: those are the cap,
    # not errors. Injected faults are 5xx too, hence the max rather than a sum.
    server_5xx = max(
        server_growth(s_first, s_last, "http_5xx_total") - cap_rejections,
        server_growth(s_first, s_last, "injected_faults_total"),
    )
    hb_p99 = max((s.hb_p99_ms or 0.0 for s in window), default=0.0)
    gen_cpu = max((finite(s.generator_cpu) for s in window), default=0.0)
    gen_lag = max((finite(s.generator_lag_ms) for s in window), default=0.0)
    gen_wait = max((finite(s.http_wait_p99_ms) for s in window), default=0.0)
    host_cpu = max((finite(s.host_cpu) for s in window), default=0.0)
    stale = max((figure(s, "scrape_age_s") for s in seen), default=0.0)
    answer_p99 = max((finite(s.answer_p99_ms) for s in window), default=0.0)
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
        return Cause.CONNECTION_CAP, wording.connection_cap(cap, ws_open), evidence
    if dominant == FailureKind.REFUSED:
        return Cause.REFUSED, wording.REFUSED, evidence
    if dominant == FailureKind.HTTP_5XX:
        return Cause.SERVER_ERRORS, wording.SERVER_ERRORS, evidence
    if dominant == FailureKind.HTTP_4XX or dominant == FailureKind.PROTOCOL:
        return Cause.PROTOCOL, wording.PROTOCOL, evidence

    # Latency (or timeouts, drops): whose clock ran late?
    words = wording.latency_words(broken, hb_p99)
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
        return Cause.SATURATION, wording.saturated(words, lag_ms, server_cpu), evidence
    # Answers: the server times each one itself (its answer route's histogram). Slow
    # there, the platform is slow, whatever the generator's state; quick there while the
    # tablets measured them slow, the time went between the two: in the generator.
    answer_slo = next((x for x in broken if x.op == OP_ANSWER and x.kind is SloKind.LATENCY), None)
    if answer_slo is not None and server_answer_ms > 0:
        if not answer_slo.passes(server_answer_ms):
            return (
                Cause.SLOW_ANSWERS,
                wording.slow_answers(answer_slo, server_answer_ms, commit_ms),
                evidence,
            )
        if server_answer_ms <= answer_slo.threshold * ANSWER_SERVER_SHARE and server_on_time(
            stale, lag
        ):
            return (
                Cause.GENERATOR,
                wording.generator_answers(
                    answer_p99, server_answer_ms, lag_ms, gen_cpu, gen_lag, host_cpu
                ),
                evidence,
            )
    # Calls also wait for a pooled connection when every one of them waits on a slow
    # server: the wait is the generator's only while the server answers its own /metrics
    # in time and its loop is on time.
    if gen_wait >= GENERATOR_WAIT_HIGH_MS and server_on_time(stale, lag):
        return Cause.GENERATOR, wording.generator_wait(words, gen_wait), evidence
    hot_generator = gen_cpu > generator_limit or gen_lag >= GENERATOR_LAG_HIGH_MS
    if hot_generator and server_on_time(stale, lag):
        return Cause.GENERATOR, wording.generator_cpu(words, gen_cpu, lag_ms), evidence
    if host_busy:
        return Cause.HOST, wording.host(words, host_cpu, server_cpu, lag_ms), evidence
    if lag >= EVENT_LOOP_LAG_HIGH_S:
        return Cause.SATURATION, wording.saturated(words, lag_ms, server_cpu), evidence
    if stale >= SCRAPE_STALE_S:
        # Its figures froze when it stopped answering: the lag it last reported is old news.
        return Cause.SATURATION, wording.stale(words, stale), evidence
    if dominant == FailureKind.TIMEOUT:
        return Cause.TIMEOUTS, wording.TIMEOUTS, evidence
    if dominant == FailureKind.DISCONNECTED:
        return Cause.DISCONNECTIONS, wording.DISCONNECTIONS, evidence
    return Cause.LATENCY, wording.latency(words), evidence


def server_on_time(stale: float, lag: float) -> bool:
    """The server answers its own /metrics in time and its loop is on time."""
    return stale < SCRAPE_STALE_S and lag < EVENT_LOOP_LAG_HIGH_S
