"""The master side of a run: the jury's timeline, and the wiring for plain ``locust`` masters.

The jury timeline performs the scenario's national actions at their run times through the
jury API (the national demo account): launch each unit with the compressed duration, close
it at its deadline, then the next one. Failures are notes in the run record, never a crash of the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import gevent

from scenarios.model import Scenario, UnitSlot
from simulator.cli.common import EXIT_NOT_RUN
from simulator.run.jury import NATIONAL_USER, NationalJury
from simulator.run.plan import DEFAULT_RECOVERY_S
from vigie.jury_client import JuryApiError
from vigie.protocol import ErrorCode

#: The last incident-time grant comes this long before the close (a grant after it is refused).
GRANT_BEFORE_CLOSE_S = 3.0

__all__ = ["NATIONAL_USER", "JuryTimeline", "attach_to_plain_locust", "incident_grants"]


class JuryTimeline:
    """The scripted national jury: every unit of the scenario launched, granted its
    incident time and closed, one after the other; before each next launch, the finished
    unit's deadlines are checked (the snapshot shows only the current unit)."""

    def __init__(
        self,
        scenario: Scenario,
        target: str,
        note: Callable[[str], None],
        now: Callable[[], float],
        jury: NationalJury | None = None,
        sleep: Callable[[float], None] = gevent.sleep,
    ) -> None:
        self.scenario = scenario
        self.note = note  # adds a line to the run record
        self.now = now  # seconds since the run start
        self.sleep = sleep
        self.jury = jury or NationalJury(target)
        self.checked: dict[str, dict[str, Any]] = {}  # unit -> check_extra_time findings
        self.late_s = 0.0  # how far the launches run behind the schedule

    def run(self) -> None:
        slots = self.scenario.schedule
        for index, slot in enumerate(slots):
            self._sleep_until(slot.launch_s + self.late_s)
            if index:  # its tiers-temps are over: the deadlines are final
                self._check(slots[index - 1].unit_id)
            launched = self._launch(slot)
            if launched is None:
                continue
            for t in incident_grants(self.scenario, index):
                self._sleep_until(t + self.late_s)
                self._grant_incident_time()
            if self.scenario.exam.close:
                # Never before the server's national end (launch time + duration): a
                # close a few ms early would refuse the last answers of on-time tablets.
                self._sleep_until(max(slot.close_s + self.late_s, launched + slot.duration_s))
                if self._act(
                    f"/jury/units/{slot.unit_id}/close",
                    {"reason": f"vigie scenario {self.scenario.name}: end of the unit"},
                ):
                    self.note(f"jury: closed {slot.unit_id}")

    def _launch(self, slot: UnitSlot) -> float | None:
        """Launch ``slot``'s unit, and return the run time its call came back (None: not
        launched). While candidates still work on the previous one (incident time beyond
        the schedule), try again each second for up to a unit's duration."""
        path = f"/jury/units/{slot.unit_id}/launch"
        duration = round(self.scenario.unit_duration_s, 3)
        body = {
            "reason": f"vigie scenario {self.scenario.name}: national launch",
            "duration_s": duration,
        }
        give_up = self.now() + self.scenario.unit_duration_s
        while True:
            try:
                ms = self.jury.act(path, body)
                break
            except JuryApiError as exc:
                # 409: a candidate still works on the previous unit (the message says who)
                waiting = exc.code == ErrorCode.UNIT_ALREADY_LAUNCHED
                if not waiting or self.now() >= give_up:
                    self.note(f"jury: {path} failed: {exc}")
                    return None
                self.sleep(1.0)
            except (KeyError, ValueError) as exc:
                self.note(f"jury: {path} failed: {exc}")
                return None
        returned = self.now()
        late = returned - ms / 1000 - slot.launch_s - self.late_s
        if late > 1.0 and slot.launch_s > self.scenario.exam.launch_at_s:
            self.late_s += late
            self.note(f"jury: {slot.unit_id} launched {late:.0f} s late (extra time ran on)")
        self.note(f"jury: {path} took {ms:.0f} ms")
        self.note(f"jury: launched {slot.unit_id} for {duration:g} s")
        return returned

    def _check(self, unit_id: str) -> None:
        from simulator.run.extra_time import check_extra_time

        self.checked[unit_id] = check_extra_time(
            self.jury, unit_id, exclude=self.scenario.real_centres
        )

    def _grant_incident_time(self) -> None:
        from simulator.run.extra_time import grant_incident_time

        reason = f"vigie scenario {self.scenario.name}: time lost to the incidents"
        self.note(f"jury: {grant_incident_time(self.jury, reason)}")

    def _sleep_until(self, t: float) -> None:
        while (left := t - self.now()) > 0:
            self.sleep(min(left, 1.0))

    def _act(self, path: str, body: dict[str, Any]) -> bool:
        try:
            ms = self.jury.act(path, body)
        except (JuryApiError, KeyError, ValueError) as exc:
            self.note(f"jury: {path} failed: {exc}")
            return False
        self.note(f"jury: {path} took {ms:.0f} ms")
        return True


def incident_grants(scenario: Scenario, index: int = 0) -> list[float]:
    """When the scripted jury grants the proposed incident time during the ``index``-th
    unit (the time each candidate was disconnected, as the 2023 compensation should have
    been: per candidate): once the unit's faults are over and their tablets back, and
    just before its close, for whoever came back later (a grant adds only what was not
    granted yet). A fault counts for the first unit not closed before it is over."""
    slots = scenario.schedule
    slot = slots[index]
    ends = []
    for f in scenario.faults:
        if f.kind == "drop_planned_extra_time":
            continue
        end = f.end_s + (f.recovery_s_max or DEFAULT_RECOVERY_S)
        home = next((i for i, s in enumerate(slots) if end <= s.close_s), len(slots) - 1)
        if home == index:
            ends.append(end)
    last = slot.close_s - GRANT_BEFORE_CLOSE_S
    if not ends:  # a tablet may drop in any run: the jury gives its time back all the same
        return [last] if last > slot.launch_s else []
    first = max(min(max(ends), last), slot.launch_s + 1)
    return [first, last] if last - first > GRANT_BEFORE_CLOSE_S else [first]


def attach_to_plain_locust(environment: Any) -> None:
    """Under ``locust -f simulator/locustfile.py`` (master or local): monitor, jury, metrics.

    Headless, the target is checked first, as ``vigie load`` does: a mismatch exits 3.
    """
    from simulator.exporter import serve_metrics
    from simulator.locustfile import scenario_from_options, target_from
    from simulator.run.monitor import FleetMonitor

    options = environment.parsed_options
    if getattr(options, "headless", False) and not getattr(options, "vigie_no_check", False):
        _check_or_exit(environment)
    state: dict[str, Any] = {}

    def _start(environment: Any, **_: Any) -> None:
        if "monitor" in state:
            return
        options = environment.parsed_options
        scenario = scenario_from_options(options)
        target = target_from(options, environment.host)
        monitor = FleetMonitor(
            scenario, getattr(options, "scenario", ""), target, environment.runner
        )
        if not isinstance(environment.runner, _master_class()):
            from simulator.run.tally import Tally

            tally = Tally()
            tally.install(environment.events, report_to_master=False)
            monitor.local_tally = tally
        environment.events.worker_report.add_listener(monitor.on_worker_report)
        monitor.echo = lambda line: print(f"vigie: {line}", file=sys.stderr, flush=True)
        monitor.start()
        if scenario.real_tablets is not None:
            from simulator.run.real import briefing

            lines = briefing(
                scenario,
                getattr(options, "scenario", scenario.name),
                getattr(options, "vigie_set", []),
                target,
                monitor.record.started_at,
            )
            print("\n".join(lines), file=sys.stderr, flush=True)
        timeline = JuryTimeline(scenario, target, monitor.note, monitor.now)
        state.update(monitor=monitor, jury=gevent.spawn(timeline.run))
        if scenario.faults:
            state["faults"] = _plain_faults(environment, scenario, target, monitor)
        port = int(getattr(options, "metrics_port", 0) or 0)
        if port:
            try:
                state["metrics"] = serve_metrics(monitor, port)
            except OSError as exc:
                monitor.note(f"fleet metrics not served on port {port}: {exc.strerror}")

    environment.events.test_start.add_listener(_start)
    from simulator.run.reconcile import LedgerInbox
    from simulator.tablet.ledger import LEDGER_MESSAGE

    runner: Any = environment.runner
    inbox = LedgerInbox()
    workers = 0
    is_master = isinstance(runner, _master_class())
    if is_master:
        environment.runner.register_message(LEDGER_MESSAGE, inbox.on_message)
        workers = int(getattr(options, "expect_workers", 1) or 1)

    def _quitting(environment: Any, **_: Any) -> None:
        faults = state.pop("faults", None)
        if faults is not None:  # first: no rule of the run outlives it
            faults.stop()
            faults.close_networks()
        # The workers shipped their ledgers as they stopped: reconcile before the exit.
        _reconcile(environment, inbox, workers, state)

    environment.events.quitting.add_listener(_quitting)


def _plain_faults(environment: Any, scenario: Scenario, target: str, monitor: Any) -> Any:
    """The scenario's faults under a plain master: centre faults through the networks it
    can open here (``mode: simulated`` reaches workers on any machine; nftables needs them
    on this host, ``$VIGIE_NET_BASE`` set alike), server faults through
    ``--operator-token``; never a crash (no server process here). What will not apply is
    printed and noted before the waves start, and recorded as not applied."""
    from simulator.faults import BASE_ENV
    from simulator.run.fault_driver import FaultDriver, open_what_can
    from simulator.run.faults import FaultControl, preflight

    options = environment.parsed_options
    base = os.environ.get(BASE_ENV)
    networks, problems = open_what_can(
        scenario, environment.runner, int(base) if base else None, target
    )
    token = getattr(options, "vigie_operator_token", "") or None
    control = FaultControl(operator_token=token, networks=networks)
    for line in problems + preflight(scenario, control):
        monitor.note(f"faults: {line}")  # echoed on stderr
    return FaultDriver(scenario, target, control, monitor)


def _reconcile(environment: Any, inbox: Any, workers: int, state: dict[str, Any]) -> None:
    from simulator.locustfile import scenario_from_options, target_from
    from simulator.run.reconcile import end_of_run, summary

    target = target_from(environment.parsed_options, environment.host)
    rec = end_of_run(inbox, workers, target, gevent.sleep)
    line = summary(rec)
    if "monitor" in state:
        state["monitor"].note(line)  # echoed on stderr
    else:
        print(f"vigie: {line}", file=sys.stderr, flush=True)
    scenario = scenario_from_options(environment.parsed_options)
    if scenario.real_tablets is not None:
        from simulator.run.real import real_tablets_figures, summary_lines

        runs = real_tablets_figures(scenario, target)
        for text in summary_lines(runs) + [w for r in runs for w in r.warnings]:
            print(f"vigie: {text}", file=sys.stderr, flush=True)


def _check_or_exit(environment: Any) -> None:
    from simulator.cli.common import EXIT_USAGE, network_ready
    from simulator.locustfile import scenario_from_options, target_from
    from simulator.run.check import check_target, explain

    options = environment.parsed_options
    scenario = scenario_from_options(options)
    target = target_from(options, environment.host)
    if not network_ready(scenario, target):
        sys.exit(EXIT_USAGE)  # as vigie certify: nftables faults that cannot run here
    check = check_target(scenario, target)
    if not check.ok:
        ref, sets = getattr(options, "scenario", scenario.name), getattr(options, "vigie_set", [])
        print(explain(check, "locust", scenario, ref, sets), file=sys.stderr, flush=True)
        # Out of Locust's init event (it lets SystemExit through): no tablet has started.
        sys.exit(EXIT_NOT_RUN)


def _master_class() -> type:
    from locust.runners import MasterRunner

    return MasterRunner
