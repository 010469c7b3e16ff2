"""Injected faults are judged by their recovery, never taken for the platform's knee."""

from collections.abc import Callable

from simulator.certify.verdict import decide
from simulator.record import FaultRun, OpTally, RunRecord

MakeRun = Callable[..., RunRecord]


def outage(record: RunRecord) -> FaultRun:
    """A centre outage over the second half of wave 4, its operations moved into the fault
    (as the monitor files them) and its recovery as measured."""
    wave = record.waves[-1]
    assert wave.ended_at is not None
    at = (wave.started_at + wave.ended_at) / 2
    run = FaultRun(
        kind="centre_outage", centres=["LYON-SUD"], at_s=at, duration_s=10.0, applied=True,
        how="nftables", started_at=at, ended_at=at + 10, window_end_s=wave.ended_at + 1,
        affected_tablets=243, detected_after_s=6.0, recovered_after_s=12.0,
        answers_queued_offline=40,
    )  # fmt: skip
    record.faults.append(run)
    return run


def broken_wave_4(make_run: MakeRun) -> RunRecord:
    """Answers fail with 5xx from 8,000 tablets: in wave 4, which the fault covers."""
    record = make_run(errors_from=8000)
    wave = record.waves[-1]
    run = outage(record)
    # The monitor files the fault window's operations under the fault, not the wave.
    run.ops = dict(wave.ops)
    wave.ops = {name: OpTally(count=t.count, latency=t.latency) for name, t in wave.ops.items()}
    return record


def test_a_fault_recovered_in_time_is_certified_and_reported(make_run: MakeRun) -> None:
    record = broken_wave_4(make_run)
    record.faults[0].recovery_s_max = 30.0
    verdict = decide(record)
    assert verdict.certified, verdict.reasons
    (fault,) = verdict.to_json()["faults"]
    assert fault["kind"] == "centre_outage" and fault["recovered_after_s"] == 12.0
    assert fault["ops"]["answer"]["failures"]  # what failed in the window is kept, apart


def test_the_knee_search_skips_the_faults_window(make_run: MakeRun) -> None:
    # The same 5xx, left in the wave's tallies: the wave fails, but a knee inside an
    # injected fault's window would blame the platform for the fault.
    record = make_run(errors_from=8000)
    run = outage(record)
    verdict = decide(record)
    assert not verdict.certified
    assert verdict.knee is not None
    assert not run.in_window(verdict.knee.t)


def test_a_slow_recovery_fails_and_the_headline_names_the_fault(make_run: MakeRun) -> None:
    record = broken_wave_4(make_run)
    record.faults[0].recovery_s_max = 5.0
    verdict = decide(record)
    assert not verdict.certified
    assert verdict.headline.startswith("Failed: centre_outage (LYON-SUD) at ")
    assert "recovery took 12 s (at most 5 s)" in verdict.headline


def test_tablets_never_back_and_an_unseen_fault_fail(make_run: MakeRun) -> None:
    record = broken_wave_4(make_run)
    run = record.faults[0]
    run.recovered_after_s, run.detected_after_s, run.detection_s_max = None, None, 30.0
    reasons = decide(record).reasons
    assert any("the server's supervision never saw it" in r for r in reasons)
    assert any(
        "243 affected tablets were not back (99% no longer late or lost) within " in r
        for r in reasons
    )


def test_a_fault_not_applied_is_said_in_the_headline(make_run: MakeRun) -> None:
    record = make_run()
    record.faults.append(
        FaultRun(kind="server_crash", centres=[], at_s=100, duration_s=15,
                 how="not applied: needs control of the server process (vigie rehearse)")
    )  # fmt: skip
    verdict = decide(record)
    assert verdict.certified  # what ran was certified...
    assert verdict.headline.endswith(
        "(1 of 1 faults not applied: server_crash at 100 s for 15 s: not applied: needs "
        "control of the server process (vigie rehearse))"
    )  # ...and the certificate says what it does not cover
