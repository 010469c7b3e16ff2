from simulator.certify.judge import judge_wave, judge_waves, measure
from simulator.certify.slo import parse_slo, parse_slos
from simulator.record import OpTally, WaveRecord
from simulator.settings import FailureKind


def _wave(number: int = 1) -> WaveRecord:
    return WaveRecord(number, f"wave {number}", ["LYON"], 100, started_at=0.0)


def test_latency_is_the_percentile_of_successful_operations_only() -> None:
    wave = _wave()
    hb = wave.tally("heartbeat")
    for ms in range(1, 101):
        hb.record(ms)
    for _ in range(50):  # fast refusals must not pull the percentile down
        hb.record(0.5, FailureKind.TIMEOUT)
    result = measure(parse_slo("heartbeat_p99_ms", 99), wave.ops)
    assert result.value == 100 and result.basis == 100 and result.passed is False


def test_connection_success_is_successes_over_attempts() -> None:
    wave = _wave()
    ws = wave.tally("ws_connect")
    for i in range(200):
        ws.record(5.0, FailureKind.CONNECTION_CAP if i % 10 == 0 else None)
    result = measure(parse_slo("connection_success_min", 0.99), wave.ops)
    assert result.value == 0.9 and result.basis == 200 and result.passed is False


def test_overall_failure_ratio_spans_every_operation() -> None:
    wave = _wave()
    wave.ops = {
        "heartbeat": OpTally(count=990),
        "answer": OpTally(count=10, failures={"http_5xx": 10}),
    }
    result = measure(parse_slo("failure_ratio_max", 0.01), wave.ops)
    assert result.value == 0.01 and result.passed is True


def test_an_operation_absent_from_a_wave_is_not_measured_and_does_not_fail_it() -> None:
    judgement = judge_wave(_wave(), parse_slos({"answer_p99_ms": 100, "login_success_min": 0.9}))
    assert {r.value for r in judgement.results.values()} == {None}
    assert judgement.passed and judgement.broken() == []


def test_waves_are_judged_in_order_with_failures_summed_by_kind() -> None:
    late, early = _wave(2), _wave(1)
    late.tally("ws_connect").record(None, FailureKind.CONNECTION_CAP)
    late.tally("login").record(None, FailureKind.CONNECTION_CAP)
    late.tally("login").record(None, FailureKind.REFUSED)
    judgements = judge_waves([late, early], parse_slos({"failure_ratio_max": 0.5}))
    assert [j.wave.number for j in judgements] == [1, 2]
    assert judgements[1].failures() == {"connection_cap": 2, "refused": 1}
    assert not judgements[1].passed
    assert judgements[1].to_json()["slos"]["failure_ratio_max"]["passed"] is False
