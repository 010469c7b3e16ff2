"""The scenario's waves as a plan of user counts over time (no Locust: importable anywhere)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from scenarios.model import Fault, Scenario
from simulator.record import FaultRun, RunRecord, WaveRecord

#: A fault's window runs on this long after its end when the scenario sets no
#: ``recovery_s_max``: the reconnect storm and the offline queues belong to the fault.
DEFAULT_RECOVERY_S = 60.0
#: Faults that change no tablet's traffic: no window, the SLOs judge their whole span.
_NO_WINDOW = frozenset({"drop_planned_extra_time"})


@dataclass(frozen=True, slots=True)
class Step:
    start_s: float
    users: int  # cumulative target once this wave has ramped
    rate: float
    wave: int  # 1-based


def steps(scenario: Scenario, spare: int = 0) -> list[Step]:
    """One step per wave; ``spare`` extra users are added to the last one.

    The spares cover Locust's dispatcher: with several workers it may give one worker a
    user more than its share of identities; that user idles and another worker's last
    identity would otherwise never connect.
    """
    out: list[Step] = []
    total = 0
    for number, wave in enumerate(scenario.waves, start=1):
        total += scenario.wave_tablets(wave)
        out.append(Step(wave.start_s, total, wave.rate_per_s, number))
    last = out[-1]
    out[-1] = Step(last.start_s, last.users + spare, last.rate, last.wave)
    return out


def wave_at(scenario: Scenario, t: float) -> int:
    """The current wave at run time ``t`` (0 before the first one starts)."""
    return sum(1 for wave in scenario.waves if wave.start_s <= t)


def planned_record(scenario: Scenario, scenario_path: str, target: str) -> RunRecord:
    """A run record with the scenario's SLOs, knobs and planned waves, and nothing seen yet."""
    return RunRecord(
        scenario=scenario.name,
        scenario_path=scenario_path,
        target=target.rstrip("/"),
        started_at=time.time(),
        # generator_cpu_max is the certifier's generator limit, not an SLO of the server
        slos=dict(scenario.slos.model_dump(exclude={"generator_cpu_max"})),
        server_knobs=dict(scenario.server.model_dump()),
        waves=[
            WaveRecord(
                number=i,
                name=w.name,
                centres=list(w.centres),
                planned_tablets=scenario.wave_tablets(w),
                started_at=w.start_s,
            )
            for i, w in enumerate(scenario.waves, start=1)
        ],
        faults=[planned_fault(f) for f in scenario.faults],
    )


def planned_fault(fault: Fault) -> FaultRun:
    """A scenario fault as the run record will report it (nothing applied yet)."""
    window = None
    if fault.kind not in _NO_WINDOW:
        window = fault.end_s + (fault.recovery_s_max or DEFAULT_RECOVERY_S)
    return FaultRun(
        kind=fault.kind,
        centres=fault.targets,
        at_s=fault.at_s,
        duration_s=fault.duration_s,
        how="not applied yet",
        detection_s_max=fault.detection_s_max,
        recovery_s_max=fault.recovery_s_max,
        window_end_s=window,
    )
