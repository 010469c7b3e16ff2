"""Judging the injected faults: a fault is expected, a slow or lossy recovery is not.

A 90 s centre outage breaks every SLO in its window by design: those operations are kept
apart (``FaultRun.ops``) and the knee search skips the window. What the platform is
judged on instead is what the jury asks after an incident: did its supervision see it
(``detection_s_max``), were the tablets back in time (``recovery_s_max``; without one,
before the unit closed), and was any acknowledged answer lost (the reconciliation).
"""

from __future__ import annotations

from simulator.record import FaultRun, RunRecord


def label(run: FaultRun) -> str:
    """``centre_outage (LYON-SUD) at 420 s for 90 s``."""
    where = f" ({', '.join(run.centres)})" if run.centres else ""
    return f"{run.kind}{where} at {run.at_s:g} s for {run.duration_s:g} s"


def fault_reasons(record: RunRecord) -> list[str]:
    """Why the faults make the run not certified (empty when every recovery held)."""
    reasons: list[str] = []
    for run in record.faults:
        if not run.applied or run.window_end_s is None:
            continue
        what = label(run)
        if run.affected_tablets:
            if run.detection_s_max is not None:
                if run.detected_after_s is None:
                    reasons.append(f"{what}: the server's supervision never saw it")
                elif run.detected_after_s > run.detection_s_max:
                    reasons.append(
                        f"{what}: the supervision saw it after {run.detected_after_s:,.0f} s "
                        f"(at most {run.detection_s_max:,.0f} s)"
                    )
            if run.recovered_after_s is None:
                within = run.window_end_s - (run.at_s + run.duration_s)
                reasons.append(
                    f"{what}: the {run.affected_tablets:,} affected tablets were not back "
                    f"(99% no longer late or lost) within {within:,.0f} s of its end"
                )
            elif run.recovery_s_max is not None and run.recovered_after_s > run.recovery_s_max:
                reasons.append(
                    f"{what}: recovery took {run.recovered_after_s:,.0f} s "
                    f"(at most {run.recovery_s_max:,.0f} s)"
                )
        if run.answers_lost:
            reasons.append(f"{what}: {run.answers_lost:,} acknowledged answers lost")
    return reasons


def not_applied(record: RunRecord) -> list[FaultRun]:
    return [run for run in record.faults if not run.applied]
