"""Synthetic runs: a tiny second-by-second model of a fleet meeting a platform.

Each run is built the way the runner builds a real one (cumulative sample counters, the
server's gauges and counters as scraped, per-wave tallies) from a few physical facts: how
fast each wave connects, where the server's cap is, from which load its event loop lags,
what the generator's CPU costs per tablet. The certifier must then find, on its own, what
the model put there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from simulator.record import RunRecord, Sample, WaveRecord
from simulator.settings import FailureKind

WAVES_2022 = (2400, 2400, 2400, 2600)  # 9,800 tablets; over 7,000 after wave 3, as that day
SLOS = {
    "heartbeat_p99_ms": 500.0,
    "answer_p99_ms": 1000.0,
    "failure_ratio_max": 0.01,
    "connection_success_min": 0.99,
}


@dataclass
class Platform:
    cap: int | None = None  # server connection cap
    lag_from: int | None = None  # connected tablets from which the event loop lags
    lag_s_per_tablet: float = 0.0004  # added lag per tablet above lag_from
    errors_from: int | None = None  # connected tablets from which answers get 5xx
    refuse_from: int | None = None  # connected tablets from which TCP connects are refused
    gen_cpu_per_tablet: float = 0.00004  # generator CPU (fraction of a core) per tablet
    gen_cpu_spike_at: float | None = None  # one-second spike at this t
    max_tablets: int | None = None  # the fleet stops spawning here (a runner cut short)
    # (t0, t1): other processes eat the machine; the server, starved, answers late now
    # and then, and the generator reads its frames late.
    host_overload: tuple[float, float] | None = None


@dataclass
class Run:
    waves: tuple[int, ...] = WAVES_2022
    rate: int = 100  # tablets per second connecting during a wave
    hold_s: int = 20  # seconds each wave holds after its ramp
    hb_interval_s: float = 5.0
    retry_s: float = 5.0  # a refused tablet retries this often
    slos: dict[str, float] = field(default_factory=lambda: dict(SLOS))
    platform: Platform = field(default_factory=Platform)


def simulate(run: Run) -> RunRecord:
    p = run.platform
    record = RunRecord(
        scenario="ecnp-2022-01-21",
        scenario_path="scenarios/ecnp-2022-01-21.yaml",
        target="http://127.0.0.1:8080",
        started_at=1_642_750_000.0,
        slos=dict(run.slos),
        server_knobs={"connection_cap": p.cap or 0},
    )
    t = 0
    connected = waiting = spawned = 0
    requests: dict[str, int] = {}
    failures: dict[str, int] = {}
    server: dict[str, float] = {"ws_rejections_cap_total": 0.0, "http_5xx_total": 0.0}
    hb_recent: list[tuple[int, float]] = []
    scraped: dict[str, float] = {}  # the server's figures as of the last scrape
    for number, planned in enumerate(run.waves, start=1):
        wave = WaveRecord(
            number=number,
            name=f"wave {number}",
            centres=[f"C{number}-{i}" for i in range(1, 10)],
            planned_tablets=planned,
            started_at=float(t),
        )
        record.waves.append(wave)
        to_spawn = planned
        for _ in range(planned // run.rate + run.hold_s):
            t += 1
            arriving = min(run.rate, to_spawn)
            if p.max_tablets is not None:
                arriving = max(0, min(arriving, p.max_tablets - spawned))
            to_spawn -= arriving
            spawned += arriving
            _count(wave, requests, "login", arriving, 15.0)
            # New tablets try at once, refused ones retry every retry_s.
            retrying = round(waiting / run.retry_s)
            attempts = arriving + retrying
            room = attempts if p.cap is None else max(0, min(attempts, p.cap - connected))
            refused = p.refuse_from is not None and connected >= p.refuse_from
            accepted = 0 if refused else room
            rejected = attempts - accepted
            kind = FailureKind.REFUSED if refused else FailureKind.CONNECTION_CAP
            connected += accepted
            waiting = waiting + arriving - accepted
            _count(wave, requests, "ws_connect", accepted, 8.0)
            _fail(wave, requests, failures, "ws_connect", kind, rejected)
            if kind is FailureKind.CONNECTION_CAP:
                # The server counts a 503 connection_cap both as a rejection and a 5xx.
                server["ws_rejections_cap_total"] += rejected
                server["http_5xx_total"] += rejected

            over = 0 if p.lag_from is None else max(0, connected - p.lag_from)
            lag = 0.002 + over * p.lag_s_per_tablet
            cpu = 0.05 + connected * p.gen_cpu_per_tablet
            server_cpu = 0.05 + connected * 0.00003 + over * 0.001  # lag from real work
            host_cpu = min(1.0, 0.2 + (cpu + server_cpu) / 2)
            # A generator short of CPU reads frames late: round trips it measures grow.
            hb_ms = 4.0 + lag * 1000 * 1.5 + max(0.0, cpu - 0.8) * 5000
            if p.host_overload is not None and p.host_overload[0] <= t <= p.host_overload[1]:
                host_cpu, lag, server_cpu = 0.98, max(lag, 0.1), 0.15
                hb_ms += 1500.0
            if p.gen_cpu_spike_at is not None and t == p.gen_cpu_spike_at:
                cpu = 0.97  # a spawn burst in another worker: no frame waits for it
            heartbeats = round(connected / run.hb_interval_s)
            _count(wave, requests, "heartbeat", heartbeats, hb_ms)
            hb_recent = [(s, ms) for s, ms in hb_recent if s > t - 10] + [(t, hb_ms)]

            answers = round(connected / 60)
            if p.errors_from is not None and connected >= p.errors_from:
                bad = answers // 5
                _fail(wave, requests, failures, "answer", FailureKind.HTTP_5XX, bad)
                server["http_5xx_total"] += bad
                answers -= bad
            _count(wave, requests, "answer", answers, 20.0 + lag * 1000)

            record.samples.append(
                Sample(
                    t=float(t),
                    wave=number,
                    users=spawned,
                    sockets_open=connected,
                    generator_cpu=cpu,
                    requests=dict(requests),
                    failures=dict(failures),
                    hb_p99_ms=max(ms for _, ms in hb_recent) if heartbeats else None,
                    server=scraped,
                    host_cpu=host_cpu,
                )
            )
            # The runner scrapes /metrics on its own clock: a sample carries what the
            # server said about a second earlier (as in real records).
            scraped = {
                **server,
                "websockets_open": float(connected),
                "connection_cap": float(p.cap or 0),
                "event_loop_lag_p99_s": lag,
                "cpu_ratio": server_cpu,
            }
        wave.ended_at = float(t)
    record.ended_at = record.started_at + t
    return record


def _count(wave: WaveRecord, requests: dict[str, int], op: str, n: int, ms: float) -> None:
    if n <= 0:
        return
    tally = wave.tally(op)
    tally.count += n
    tally.latency.add(ms, n)
    requests[op] = requests.get(op, 0) + n


def _fail(
    wave: WaveRecord,
    requests: dict[str, int],
    failures: dict[str, int],
    op: str,
    kind: FailureKind,
    n: int,
) -> None:
    if n <= 0:
        return
    tally = wave.tally(op)
    tally.count += n
    tally.failures[kind.value] = tally.failures.get(kind.value, 0) + n
    requests[op] = requests.get(op, 0) + n
    failures[kind.value] = failures.get(kind.value, 0) + n


@pytest.fixture
def make_run() -> Callable[..., RunRecord]:
    """``make_run(cap=8000)`` -> a RunRecord of the 2022 waves against that platform;
    keys name a :class:`Run` field (``slos``, ``waves``...) or a :class:`Platform` one."""

    def make(**settings: object) -> RunRecord:
        run = Run()
        for key, value in settings.items():
            holder = run if key in Run.__dataclass_fields__ else run.platform
            assert hasattr(holder, key), f"no setting {key!r}"
            setattr(holder, key, value)
        return simulate(run)

    return make
