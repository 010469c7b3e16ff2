"""Verdicts on synthetic runs: certified only when every wave met every SLO, the whole
fleet connected, and the generator was not the bottleneck."""

from collections.abc import Callable

from simulator.certify.verdict import decide
from simulator.record import RunRecord

MakeRun = Callable[..., RunRecord]


def test_the_2022_day_fails_at_8000_in_wave_4(make_run: MakeRun) -> None:
    verdict = decide(make_run(cap=8000))
    assert verdict.verdict == "failed" and verdict.exit_code == 1
    assert verdict.max_connected == 8000 and verdict.planned_tablets == 9800
    assert verdict.headline == (
        "Failed at 8,000 connected tablets in wave 4: the server refused new connections "
        "at its connection cap (8,000)"
    )
    waves = verdict.to_json()["waves"]
    assert [w["passed"] for w in waves] == [True, True, True, False]
    assert waves[3]["slos"]["connection_success_min"]["passed"] is False


def test_the_same_waves_without_a_cap_are_certified(make_run: MakeRun) -> None:
    verdict = decide(make_run())
    assert verdict.certified and verdict.exit_code == 0 and verdict.reasons == []
    assert verdict.max_connected == 9800
    assert verdict.headline == "Certified for 9,800 simultaneous tablets"
    assert verdict.knee is None


def test_a_generator_bound_run_is_never_certified(make_run: MakeRun) -> None:
    # The generator is held over 80% but the latencies it measures stay within the SLOs.
    verdict = decide(make_run(gen_cpu_per_tablet=0.000085))
    assert not verdict.certified
    assert verdict.generator.bound
    assert verdict.knee is None  # the platform met every SLO...
    assert "load generator ran out of CPU" in verdict.headline  # ...but that proves nothing
    assert any("CPU-bound" in r for r in verdict.reasons)


def test_a_break_caused_by_the_generator_is_not_the_platforms(make_run: MakeRun) -> None:
    verdict = decide(make_run(gen_cpu_per_tablet=0.0001))
    assert not verdict.certified and verdict.knee is None
    assert verdict.headline.startswith("Not certified: the test setup, not the platform")
    assert verdict.to_json()["measurement_valid"] is False
    assert verdict.to_json()["measurement_breaks"][0]["cause"] == "generator-bound"


def test_the_cap_is_still_the_knee_on_an_overloaded_machine(make_run: MakeRun) -> None:
    verdict = decide(make_run(cap=8000, host_overload=(60.0, 120.0)))
    assert verdict.headline.startswith(
        "Failed at 8,000 connected tablets in wave 4: the server refused new connections "
        "at its connection cap (8,000)"
    )
    assert "test setup was also short of CPU" in verdict.headline
    assert any("test machine was overloaded" in r for r in verdict.reasons)


def test_a_spawn_spike_on_the_generator_does_not_void_the_run(make_run: MakeRun) -> None:
    verdict = decide(make_run(gen_cpu_spike_at=30))
    assert verdict.certified and verdict.generator.peak_cpu > 0.8


def test_a_generator_limit_is_the_callers_to_set(make_run: MakeRun) -> None:
    assert not decide(make_run(), generator_cpu_limit=0.3).certified


def test_a_fleet_that_never_fully_connected_is_not_certified(make_run: MakeRun) -> None:
    verdict = decide(make_run(max_tablets=9000))
    assert not verdict.certified and verdict.knee is None
    assert verdict.headline == "Failed: only 9,000 of the 9,800 planned tablets connected"


def test_an_unknown_slo_fails_loudly_rather_than_being_skipped(make_run: MakeRun) -> None:
    record = make_run(slos={"heartbeat_p99_ms": 1000.0, "hearbeat_p99_ms": 1000.0})
    verdict = decide(record)
    assert not verdict.certified
    assert any("unknown operation 'hearbeat'" in r for r in verdict.reasons)


def test_no_slo_at_all_certifies_nothing(make_run: MakeRun) -> None:
    verdict = decide(make_run(slos={}))
    assert not verdict.certified
    assert "no SLO" in verdict.reasons[0]


def test_an_slo_never_measured_blocks_certification(make_run: MakeRun) -> None:
    verdict = decide(make_run(slos={"heartbeat_p99_ms": 1000.0, "key_p99_ms": 500.0}))
    assert not verdict.certified
    assert verdict.reasons == ["key p99 ≤ 500 ms was never measured in any wave"]


def test_an_unfinished_run_is_not_certified(make_run: MakeRun) -> None:
    record = make_run()
    record.ended_at = None
    assert not decide(record).certified


def test_the_cap_shown_is_the_servers_then_the_scenarios(make_run: MakeRun) -> None:
    record = make_run(cap=8000)
    assert decide(record).connection_cap == 8000
    record.server_knobs = {"max_connections": 7000}
    for sample in record.samples:
        sample.server = {}
    assert decide(record).connection_cap == 7000
    record.server_knobs = {"max_connections": 0}
    assert decide(record).connection_cap is None
