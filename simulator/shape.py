"""The scenario's waves as a Locust ``LoadTestShape``.

Each wave adds its centres' tablets at its own rate from its start time: the shape asks
Locust for the cumulative count of the waves started so far, at the rate of the wave that
is ramping. It holds the full fleet through the exam and stops the test at the scenario's
end. Works in the web UI, headless, local or distributed.
"""

from __future__ import annotations

from dataclasses import dataclass

from locust import LoadTestShape

from scenarios.model import Scenario


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


class ScenarioShape(LoadTestShape):
    """Waves of tablets; the scenario comes from the constructor or from ``--scenario``."""

    def __init__(self, scenario: Scenario | None = None, spare: int | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._scenario = scenario
        self._spare = spare

    @property
    def scenario(self) -> Scenario:
        if self._scenario is None:
            # Plain `locust -f simulator/locustfile.py --scenario X`: loaded on first tick.
            from simulator.locustfile import scenario_from_options

            options = self.runner.environment.parsed_options if self.runner else None
            self._scenario = scenario_from_options(options)
        return self._scenario

    def tick(self) -> tuple[int, float] | None:
        scenario = self.scenario
        t: float = self.get_run_time()  # type: ignore[no-untyped-call]
        if t >= scenario.end_s:
            return None
        spare = self._spare
        if spare is None:
            workers = getattr(self.runner, "worker_count", 1) if self.runner else 1
            spare = max(int(workers) - 1, 0)
        current = [s for s in steps(scenario, spare) if s.start_s <= t]
        if not current:
            return (0, 1.0)
        step = current[-1]
        return (step.users, step.rate)
