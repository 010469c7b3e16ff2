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
from simulator.record import RunRecord, Sample
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
    from locust.runners import STATE_STOPPED

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
    inbox = LedgerInbox()  # the tablets' acknowledged answers, reconciled at the end
    if opts.workers:
        port = opts.master_port or free_port()
        runner: Any = env.create_master_runner("127.0.0.1", port)
        runner.register_message(LEDGER_MESSAGE, inbox.on_message)
    else:
        fleet.configure(lf.fleet_settings(scenario, target), lambda: wave_order(scenario))
        runner = env.create_local_runner()
    monitor = FleetMonitor(scenario, opts.scenario_ref, target, runner, on_sample=opts.on_sample)
    try:
        if opts.workers:
            env.events.worker_report.add_listener(monitor.on_worker_report)
            workers = _start_workers(opts, port)
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
        jury = gevent.spawn(JuryTimeline(scenario, target, monitor.note, monitor.now).run)
        runner.start_shape()
        deadline = scenario.end_s + STOP_GRACE_S
        gevent.sleep(1.0)
        while runner.state != STATE_STOPPED and runner.shape_greenlet is not None:
            if interrupted:
                monitor.note(f"runner: interrupted by signal {interrupted.signal}, run cut short")
                break
            if monitor.now() > deadline:
                monitor.note("runner: the shape did not stop in time, stopping the run")
                break
            if opts.workers and not any(w.poll() is None for w in workers):
                monitor.note("runner: every worker process exited, stopping the run")
                break
            gevent.sleep(0.5)
    finally:
        if jury is not None:
            jury.kill(block=False)
        runner.stop()
        gevent.sleep(0)  # let the stop messages reach the workers
        if opts.workers:
            # The last worker reports (3 s apart) carry the final operations.
            _drain_reports(runner)
        record = monitor.finish()
        record.reconciliation = end_of_run(inbox, opts.workers, target, gevent.sleep)
        monitor.note(summary(record.reconciliation))
        runner.quit()
        _stop_workers(workers)
        if metrics_server is not None:
            metrics_server.shutdown()
        for handler in handlers:
            handler.cancel()
    return record


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


def _start_workers(opts: FleetOptions, port: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, **opts.worker_env}
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
