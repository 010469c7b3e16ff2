import pytest

from simulator.certify.slo import SloKind, parse_slo, parse_slos


def test_latency_percentile_names_carry_op_and_quantile() -> None:
    slo = parse_slo("answer_p95_ms", 800)
    assert (slo.kind, slo.op, slo.quantile, slo.threshold) == (SloKind.LATENCY, "answer", 0.95, 800)
    assert slo.passes(800) and not slo.passes(801)


def test_connection_success_means_websocket_connects_and_is_a_lower_bound() -> None:
    slo = parse_slo("connection_success_min", 0.99)
    assert (slo.kind, slo.op) == (SloKind.SUCCESS, "ws_connect")
    assert slo.passes(0.995) and not slo.passes(0.98)


def test_failure_ratio_overall_and_per_op() -> None:
    overall, login = parse_slos({"failure_ratio_max": 0.01, "login_failure_ratio_max": 0.001})
    assert overall.op is None and login.op == "login"
    assert overall.kind is login.kind is SloKind.FAILURE_RATIO
    assert not overall.passes(0.02)


@pytest.mark.parametrize(
    ("name", "threshold", "message"),
    [
        ("heartbeat_p99", 500, "unknown SLO"),
        ("hearbeat_p99_ms", 500, "unknown operation 'hearbeat'"),
        ("heartbeat_p100_ms", 500, "between 0 and 100"),
        ("connection_success_min", 99, "between 0 and 1"),
        ("failure_ratio_max", -0.1, "negative"),
        ("answer_p99_ms", "fast", "must be a number"),
        ("answer_p99_ms", True, "must be a number"),
    ],
)
def test_bad_declarations_are_refused_with_a_clear_message(
    name: str, threshold: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_slo(name, threshold)  # type: ignore[arg-type]


def test_descriptions_read_as_plain_words() -> None:
    assert parse_slo("heartbeat_p99_ms", 1000).describe() == "heartbeat p99 ≤ 1,000 ms"
    assert parse_slo("connection_success_min", 0.99).describe() == "ws connect success ≥ 99.00%"
