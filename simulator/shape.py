"""The scenario's waves as a Locust ``LoadTestShape``.

Each wave adds its centres' tablets at its own rate from its start time: the shape asks
Locust for the cumulative count of the waves started so far, at the rate of the wave that
is ramping. It holds the full fleet through the exam and stops the test at the scenario's
end. Works in the web UI, headless, local or distributed.
"""

from __future__ import annotations

from locust import LoadTestShape

from scenarios.model import Scenario
from simulator.run.plan import Step, steps, wave_at

__all__ = ["ScenarioShape", "Step", "steps", "wave_at"]


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
