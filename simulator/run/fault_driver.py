"""A run's faults, end to end: the networks they need, their timeline and recovery watch.

Shared by ``vigie certify|rehearse`` (:mod:`simulator.runner`) and a plain ``locust``
master (:func:`simulator.run.master.attach_to_plain_locust`), so that a scenario's faults
mean the same under both. What a run cannot apply is said before it starts and recorded as
not applied, never skipped in silence.
"""

from __future__ import annotations

from typing import Any

import gevent

from scenarios import NETWORK_FAULTS
from scenarios.model import Scenario
from simulator.faults import NetworkUnavailable, open_network
from simulator.run.faults import FaultControl, FaultTimeline, RecoveryWatch, measure_recovery
from simulator.run.jury import NationalJury


def open_networks(scenario: Scenario, runner: Any, base: int | None, target: str) -> dict[str, Any]:
    """The centre networks the scenario's faults need, one per mode (NetworkUnavailable
    when nftables cannot be used: the commands check that before anything starts)."""
    modes = {getattr(f, "mode", "") for f in scenario.faults if f.kind in NETWORK_FAULTS}
    return {mode: open_network(mode, scenario, runner, base, target=target) for mode in modes}


def open_what_can(
    scenario: Scenario, runner: Any, base: int | None, target: str
) -> tuple[dict[str, Any], list[str]]:
    """As :func:`open_networks`, mode by mode, for a master that cannot refuse to start
    (Locust's web UI): the networks opened, and why the others' faults will not apply."""
    opened: dict[str, Any] = {}
    problems: list[str] = []
    modes = {getattr(f, "mode", "") for f in scenario.faults if f.kind in NETWORK_FAULTS}
    for mode in sorted(modes):
        try:
            opened[mode] = open_network(mode, scenario, runner, base, target=target)
        except NetworkUnavailable as exc:
            problems.append(
                f"the {mode} centre faults will not be applied: {exc} (mode: simulated works "
                "with workers on any machine)"
            )
    return opened, problems


class FaultDriver:
    """The fault timeline and the recovery watch of a run, in their greenlets."""

    def __init__(
        self, scenario: Scenario, target: str, control: FaultControl, monitor: Any
    ) -> None:
        self.monitor = monitor
        self.control = control
        self.timeline = FaultTimeline(
            scenario,
            monitor.record.faults,
            NationalJury(target, control.operator_token),
            control,
            monitor.note,
            monitor.now,
        )
        self.watch = RecoveryWatch(
            scenario, NationalJury(target), monitor.now, monitor.offline_queued
        )
        self.greenlets = [gevent.spawn(self.timeline.run), gevent.spawn(self.watch.run)]

    def stop(self) -> None:
        gevent.killall(self.greenlets, block=True, timeout=5)
        measure_recovery(self.monitor.record.faults, self.timeline.scenario, self.watch.polls)
        if self.watch.failures:
            self.monitor.note(f"faults: {self.watch.failures} supervision polls failed")

    def close_networks(self) -> None:
        """Every rule the run added, removed (also on Ctrl-C: the callers' finally)."""
        for net in self.control.networks.values():
            net.close()
