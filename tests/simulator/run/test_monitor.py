"""The master's sample of the generator's memory: every process that reported lately, once."""

from __future__ import annotations

import psutil
import pytest

from scenarios import load_scenario
from simulator.run.monitor import WORKER_STALE_S, FleetMonitor
from simulator.run.tally import Tally
from simulator.tablet.ledger import Ledger

MIB = 2**20
SLACK_MIB = 32.0  # this process allocates a little between two reads of its memory


class FakeRunner:
    user_count = 0


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def monitor(clock: Clock) -> FleetMonitor:
    return FleetMonitor(
        load_scenario("smoke"), "smoke", "http://127.0.0.1:9", FakeRunner(), clock=clock
    )


def own_mib() -> float:
    return float(psutil.Process().memory_info().rss) / MIB


def test_the_workers_and_the_master_are_summed_and_a_silent_worker_drops_out() -> None:
    clock = Clock()
    m = monitor(clock)
    m.ingest("w0", {"rss": 300 * MIB})
    clock.t += WORKER_STALE_S - 5
    m.ingest("w1", {"rss": 200 * MIB})
    m.ingest("w2", {"sockets_open": 3})  # a worker that does not say: not counted, not zero
    sample = m.take_sample()
    assert sample.generator_rss_mb is not None
    assert sample.generator_rss_mb - 500 == pytest.approx(own_mib(), abs=SLACK_MIB)
    clock.t += 10  # w0 silent for longer than WORKER_STALE_S, w1 not yet
    sample = m.take_sample()
    assert sample.generator_rss_mb is not None
    assert sample.generator_rss_mb - 200 == pytest.approx(own_mib(), abs=SLACK_MIB)
    assert m.record.samples[-1] is sample


def test_a_local_runner_is_counted_once() -> None:
    m = monitor(Clock())
    m.local_tally = Tally(Ledger())  # the tablets run in this process, which reports itself
    sample = m.take_sample()
    assert sample.generator_rss_mb == pytest.approx(own_mib(), abs=SLACK_MIB)


def test_a_sample_carries_the_worst_lag_the_busiest_machine_and_the_calls_held_back() -> None:
    clock = Clock()
    m = monitor(clock)
    m.ingest("w0", {"lag_ms": 40.0, "host_cpu": 0.5, "http_wait": {"0": 970, "300": 30}})
    m.ingest("w1", {"lag_ms": 180.0, "host_cpu": 0.95, "http_wait": {"0": 1000}})
    sample = m.take_sample()
    assert sample.generator_lag_ms == 180.0 and sample.host_cpu == 0.95
    assert sample.http_wait_p99_ms == 300.0  # 30 of 2,000 calls waited: over 1 %
    clock.t += WORKER_STALE_S + 1  # gone quiet: neither figure is kept, nor the waits
    sample = m.take_sample()
    assert sample.generator_lag_ms is None and sample.host_cpu is None
    assert sample.http_wait_p99_ms is None


def test_a_sample_carries_the_answers_p99_once_enough_answers_say_something() -> None:
    from simulator.record import OP_ANSWER, OpTally

    def answers(n: int, ms: float) -> dict[str, object]:
        tally = OpTally(count=n)
        tally.latency.add(ms, n)
        return {"ops": {OP_ANSWER: tally.to_json()}}

    clock = Clock()
    m = monitor(clock)
    m.ingest("w0", answers(10, 3000.0))
    assert m.take_sample().answer_p99_ms is None  # 10 answers: too few for a p99
    m.ingest("w1", answers(990, 40.0))
    clock.t += 1
    m.ingest("w0", answers(20, 3000.0))
    assert m.take_sample().answer_p99_ms == pytest.approx(3000.0, rel=0.1)  # 30 of 1,020
    clock.t += 11  # out of the window
    assert m.take_sample().answer_p99_ms is None
