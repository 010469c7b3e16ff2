"""``vigie rehearse SCENARIO``: the whole job on one machine.

Starts the exam server (``vigie serve``, SQLite in the run directory, the scenario's roster
and knobs), the jury's supervision dashboard when it is installed, then the fleet with live
progress in the terminal; ends with the certification report and stops everything it
started, Ctrl-C included. Exit status as ``vigie certify``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from simulator.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_NOT_RUN,
    EXIT_USAGE,
    add_fleet_arguments,
    add_real_tablets_arguments,
    add_scenario_arguments,
    overrides_of,
    run_scenario_fleet,
    start_fleet_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie rehearse",
        description="Exam server + supervision dashboard + tablet fleet on this machine, then a report.",
    )
    add_scenario_arguments(parser)
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="run directory: database, logs, record and report (default reports/<scenario>-<time>)",
    )
    add_real_tablets_arguments(parser)
    add_fleet_arguments(parser, default_workers=2)
    parser.add_argument(
        "--port", type=int, default=0, help="exam server port (default: a free one)"
    )
    parser.add_argument(
        "--dashboard-port",
        type=int,
        default=8050,
        help="supervision dashboard port (0: no dashboard)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live display, a line every 10 s")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = start_fleet_command(build_parser(), argv)
    if started is None:
        return EXIT_USAGE
    args, scenario = started
    from scenarios.loader import resolve
    from scenarios.serving import server_spec
    from simulator.cli.certify import judge
    from simulator.run.check import check_target, explain
    from simulator.run.correction import correct_run, describe
    from simulator.run.faults import FaultControl
    from simulator.run.live import LiveProgress
    from simulator.run.procs import ServiceError, Services
    from simulator.runner import raise_fd_limit

    raise_fd_limit()
    run_dir: Path = args.report or Path("reports") / (
        f"{scenario.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    services = Services(run_dir)
    try:
        target = services.start_server(args.scenario, overrides_of(args), args.port)
        print(f"exam server: {target} (database {run_dir / 'exam.sqlite3'})")
        check = check_target(scenario, target)  # vigie serve --scenario: a bug if it fails
        if not check.ok:
            prog = "vigie rehearse"
            print(
                explain(check, prog, scenario, args.scenario, overrides_of(args)), file=sys.stderr
            )
            return EXIT_NOT_RUN
        if args.dashboard_port and importlib.util.find_spec("supervision_dashboard.cli"):
            url = services.start_dashboard(target, args.dashboard_port)
            if url:
                print(f"supervision dashboard: {url}  (jury login national / national-demo)")
        if args.metrics_port:
            print(f"fleet metrics: http://127.0.0.1:{args.metrics_port}/metrics")
        live = LiveProgress(scenario, quiet=args.quiet)
        began = time.monotonic()
        with live:
            record, interrupted = run_scenario_fleet(
                args,
                scenario,
                target,
                on_sample=live.update,
                log_dir=run_dir / "logs",
                fault_control=FaultControl(
                    operator_token=services.operator_token, crash=services.crash_server
                ),
            )
        print(f"fleet done in {time.monotonic() - began:.0f} s")
        if not interrupted:
            rules = server_spec(scenario, resolve(args.scenario).parent).rules_file
            found = correct_run(run_dir / "exam.sqlite3", run_dir, scenario.exam.unit_ids, rules)
            record.checks["correction"] = found
            where = f" ({run_dir / found['results']})" if found["results"] else ""
            print(f"results: {describe(found)}{where}")
        status = judge(record, run_dir, scenario.slos.generator_cpu_max)
        if interrupted:
            raise KeyboardInterrupt
        return status
    except ServiceError as exc:
        print(f"vigie rehearse: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vigie rehearse: interrupted, stopping everything", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        services.stop()
