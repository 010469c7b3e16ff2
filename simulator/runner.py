"""Run a scenario's fleet headless with Locust as a library, and return its RunRecord.

``workers=0`` runs the tablets in this process (a ``LocalRunner``); ``workers=N`` runs an
in-process ``MasterRunner`` and starts N ``locust --worker`` processes on this machine with
``simulator/locustfile.py``. Either way the master samples the run once a second into the
record, performs the jury's timeline, and serves the fleet metrics on ``metrics_port``.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent

from scenarios.model import Scenario
from simulator import settings as fleet
from simulator.faults import lease_base
from simulator.record import RunRecord, Sample
from simulator.run.fault_driver import FaultDriver, open_networks
from simulator.run.faults import FaultControl
from vigie.testing import free_port

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
WORKER_CONNECT_TIMEOUT_S = 60.0
STOP_GRACE_S = 120.0  # past the scenario's end, a run that still has not stopped is cut


@dataclass
class FleetOptions:
    scenario: Scenario
    scenario_ref: str  # path or shipped name, as given (workers load it again)
    target: str
    overrides: Sequence[str] = ()
    workers: int = 0
    metrics_port: int = 0  # 0: no fleet metrics endpoint
    master_port: int = 0  # 0: a free port
    on_sample: Callable[[Sample], None] | None = None
    log_dir: Path | None = None  # worker logs; None: discarded
    user_classes: list[type[Any]] | None = None  # tests: another user than TabletUser
    locustfile: Path = LOCUSTFILE
    worker_env: dict[str, str] = field(default_factory=dict)
    # How the scenario's faults are injected (operator token, the server's crash...).
    fault_control: FaultControl | None = None
    # Called with the wall-clock time of run time 0, just before the first wave (the
    # commands brief the faculty's real tablets there: the launch is then a time of day).
    on_start: Callable[[float], None] | None = None


class Interrupted:
    """Set by a SIGINT/SIGTERM during a run: the run stops early but still returns its
    record (marked interrupted), so that what was seen can be judged and kept."""

    def __init__(self) -> None:
        self.signal: int | None = None

    def __bool__(self) -> bool:
        return self.signal is not None


def raise_fd_limit() -> int:
    """Soft open-files limit up to the hard one: each tablet holds a socket or two."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def run_fleet(opts: FleetOptions, interrupted: Interrupted | None = None) -> RunRecord:
    """Run the scenario's fleet to its end (or to a Ctrl-C) and return the run record."""
    from locust.argument_parser import get_parser
    from locust.env import Environment

    import simulator.locustfile as lf
    from simulator.exporter import serve_metrics
    from simulator.identity import wave_order
    from simulator.run.master import JuryTimeline
    from simulator.run.monitor import FleetMonitor
    from simulator.run.reconcile import LedgerInbox, end_of_run, summary
    from simulator.run.tally import Tally
    from simulator.shape import ScenarioShape
    from simulator.tablet.ledger import LEDGER_MESSAGE

    raise_fd_limit()
    # The run's octet: each centre's tablets send from 127.<octet>.<centre>.x (the
    # addresses that centre network faults cut), workers included.
    lease = lease_base()
    interrupted = interrupted if interrupted is not None else Interrupted()
    handlers = [
        gevent.signal_handler(sig, _flag, interrupted, sig)
        for sig in (signal.SIGINT, signal.SIGTERM)
    ]
    scenario = opts.scenario
    target = opts.target.rstrip("/")
    args = ["--headless", "--vigie-managed", "--scenario", opts.scenario_ref, "--target", target]
    for item in opts.overrides:
        args += ["--set", item]
    if opts.workers:
        args += ["--expect-workers", str(opts.workers)]
    # No config files: a locust.conf lying in the working directory must not change the run.
    options = get_parser(default_config_files=[]).parse_args(args=args)
    # Not headless for Locust: at the shape's end the master then stops (and keeps
    # receiving the workers' last reports) instead of quitting at once.
    options.headless = False
    user_classes = opts.user_classes or [lf.TabletUser]
    shape = ScenarioShape(scenario, spare=max(opts.workers - 1, 0))
    env: Any = Environment(
        user_classes=user_classes,
        shape_class=shape,
        parsed_options=options,
        host=target,
        stop_timeout=5.0,
    )
    workers: list[subprocess.Popen[bytes]] = []
    metrics_server = None
    jury = None
    timeline: JuryTimeline | None = None
    faults: FaultDriver | None = None
    inbox = LedgerInbox()  # the tablets' acknowledged answers, reconciled at the end
    if opts.workers:
        port = opts.master_port or free_port()
        runner: Any = env.create_master_runner("127.0.0.1", port)
        runner.register_message(LEDGER_MESSAGE, inbox.on_message)
    else:
        fleet.configure(
            lf.fleet_settings(scenario, target, lease.base), lambda: wave_order(scenario)
        )
        runner = env.create_local_runner()
    monitor = FleetMonitor(scenario, opts.scenario_ref, target, runner, on_sample=opts.on_sample)
    control = opts.fault_control or FaultControl()
    real = _RealTablets(scenario, target, monitor)
    try:
        control.networks = open_networks(scenario, runner, lease.base, target)
        if opts.workers:
            env.events.worker_report.add_listener(monitor.on_worker_report)
            workers = _start_workers(opts, port, lease.base)
            _wait_for_workers(runner, opts.workers, workers)
        else:
            tally = Tally()
            tally.install(env.events, report_to_master=False)
            monitor.local_tally = tally
        if opts.metrics_port:
            try:
                metrics_server = serve_metrics(monitor, opts.metrics_port)
            except OSError as exc:
                # A busy port must not cost the run: say so and go on without the endpoint.
                monitor.note(
                    f"fleet metrics not served on port {opts.metrics_port}: {exc.strerror}"
                )
                print(
                    f"vigie: fleet metrics not served on port {opts.metrics_port}: {exc.strerror}"
                )
        monitor.start()
        timeline = JuryTimeline(scenario, target, monitor.note, monitor.now)
        jury = gevent.spawn(timeline.run)
        if scenario.faults:
            faults = FaultDriver(scenario, target, control, monitor)
        if opts.on_start is not None:
            opts.on_start(monitor.record.started_at)
        runner.start_shape()
        _wait_for_end(runner, monitor, opts, workers, interrupted)
    finally:
        if jury is not None:
            jury.kill(block=False)
        if faults is not None:
            faults.stop()
        runner.stop()
        gevent.sleep(0)  # let the stop messages reach the workers
        if opts.workers:
            # The last worker reports (3 s apart) carry the final operations.
            _drain_reports(runner)
        record = monitor.finish()
        record.reconciliation = end_of_run(inbox, opts.workers, target, gevent.sleep)
        monitor.note(summary(record.reconciliation))
        checked = timeline.checked if timeline is not None else {}
        _end_of_run_checks(record, scenario, target, monitor.note, real.stop(), checked)
        runner.quit()
        _stop_workers(workers)
        if metrics_server is not None:
            metrics_server.shutdown()
        for handler in handlers:
            handler.cancel()
        for net in control.networks.values():
            net.close()
        lease.release()
    return record


def _end_of_run_checks(
    record: RunRecord,
    scenario: Scenario,
    target: str,
    note: Callable[[str], None],
    seen: dict[str, dict[str, set[str]]] | None = None,
    checked: dict[str, dict[str, Any]] | None = None,
) -> None:
    """What the server holds once the last unit is over: every deadline (planned and
    incident extra time; ``checked`` holds the earlier units', checked by the jury's
    timeline before each next launch), and the answers each fault lost."""
    from simulator.run.extra_time import check_extra_time, combine
    from simulator.run.jury import NationalJury

    rec = record.reconciliation
    if rec is not None and record.faults:
        from simulator.run.reconcile import blame_losses

        alone = blame_losses(rec, record.faults, record.started_at)
        if alone:
            note(
                f"reconciliation: {alone:,} lost answers no fault explains (acknowledged "
                "after every fault's window, or in a centre none of them touched)"
            )
    if record.target_problems:
        return
    jury = NationalJury(target)
    if scenario.real_tablets is not None:
        from simulator.run.real import note_all, real_tablets_figures

        # First, and whatever fails: a centre it cannot read says why in its problem.
        record.real_tablets = real_tablets_figures(scenario, target, jury, seen)
        note_all(record.real_tablets, note)
    last = scenario.exam.unit_ids[-1]
    per_unit = dict(checked or {})
    per_unit[last] = check_extra_time(jury, last, exclude=scenario.real_centres)
    record.checks["extra_time"] = combine(per_unit)
    found = record.checks["extra_time"]
    if not found.get("error"):
        note(
            f"extra time: {found.get('checked', 0):,} deadlines checked, "
            f"{found.get('with_planned', 0):,} with planned time, "
            f"{found.get('incident_granted_s', 0.0) / 60:,.0f} min of incident time granted"
        )


class _RealTablets:
    """The real centres' incident watch during the unit, in its greenlet (none without
    real centres); ``stop`` returns what it saw."""

    def __init__(self, scenario: Scenario, target: str, monitor: Any) -> None:
        from simulator.run.jury import NationalJury
        from simulator.run.real import RealWatch

        self.watch = RealWatch(scenario, NationalJury(target), monitor.now, gevent.sleep)
        self.greenlet = gevent.spawn(self.watch.run) if scenario.real_tablets else None

    def stop(self) -> dict[str, dict[str, set[str]]]:
        if self.greenlet is not None:
            self.greenlet.kill(block=True, timeout=5)
        return self.watch.seen


def _wait_for_end(
    runner: Any,
    monitor: Any,
    opts: FleetOptions,
    workers: list[subprocess.Popen[bytes]],
    interrupted: Interrupted,
) -> None:
    from locust.runners import STATE_STOPPED

    deadline = opts.scenario.end_s + STOP_GRACE_S
    gevent.sleep(1.0)
    while runner.state != STATE_STOPPED and runner.shape_greenlet is not None:
        if interrupted:
            monitor.note(f"runner: interrupted by signal {interrupted.signal}, run cut short")
            return
        if monitor.now() > deadline:
            monitor.note("runner: the shape did not stop in time, stopping the run")
            return
        if opts.workers and not any(w.poll() is None for w in workers):
            monitor.note("runner: every worker process exited, stopping the run")
            return
        gevent.sleep(0.5)


def _flag(interrupted: Interrupted, sig: int) -> None:
    interrupted.signal = sig


def _worker_command(opts: FleetOptions, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(port),
        "-f",
        str(opts.locustfile),
        "--loglevel",
        "WARNING",
    ]


def _start_workers(opts: FleetOptions, port: int, net_base: int) -> list[subprocess.Popen[bytes]]:
    from simulator.faults import BASE_ENV

    env = {**os.environ, BASE_ENV: str(net_base), **opts.worker_env}
    procs = []
    for i in range(opts.workers):
        if opts.log_dir is not None:
            opts.log_dir.mkdir(parents=True, exist_ok=True)
            out: Any = open(opts.log_dir / f"worker-{i}.log", "wb")  # noqa: SIM115 (lives with the process)
        else:
            out = subprocess.DEVNULL
        procs.append(
            subprocess.Popen(
                _worker_command(opts, port),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a Ctrl-C reaches the master, which stops them
            )
        )
    return procs


def _wait_for_workers(runner: Any, count: int, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WORKER_CONNECT_TIMEOUT_S
    while runner.worker_count < count:
        dead = [" ".join(map(str, p.args)) for p in procs if p.poll() is not None]  # type: ignore[arg-type]
        if dead:
            raise RuntimeError(f"a Locust worker exited before connecting: {dead[0]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {runner.worker_count} of {count} workers connected")
        gevent.sleep(0.2)


def _drain_reports(runner: Any) -> None:
    # Workers report every 3 s (locust.runners.WORKER_REPORT_INTERVAL), stopped or not.
    if runner.worker_count:
        gevent.sleep(3.5)


def _stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 10.0
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
