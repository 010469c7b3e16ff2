"""``vigie certify SCENARIO --target URL --report DIR``: run the waves, judge, report.

Writes ``DIR/record.json`` (the run record), ``DIR/report.json`` and ``DIR/report.html``;
exits 0 only when the scenario is certified (never on a generator-bound run), 1 when it
is not, 2 on bad usage or an invalid scenario, 3 when the target check found that the
server does not match the scenario (nothing was run; the report says why).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from simulator.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    add_fleet_arguments,
    add_real_tablets_arguments,
    add_scenario_arguments,
    add_target_arguments,
    check_or_explain,
    run_scenario_fleet,
    start_fleet_command,
)
from simulator.record import RunRecord

RECORD_NAME = "record.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie certify",
        description="Run a scenario's waves against a server, judge its SLOs, write a report.",
    )
    add_scenario_arguments(parser)
    add_target_arguments(parser)
    parser.add_argument("--report", type=Path, required=True, help="report directory")
    parser.add_argument(
        "--operator-token",
        default=os.environ.get("VIGIE_OPERATOR_TOKEN"),
        help="the target's fault-control token (vigie serve --operator-token), to apply the "
        "scenario's server faults (default: $VIGIE_OPERATOR_TOKEN; unset: not applied)",
    )
    add_real_tablets_arguments(parser)
    add_fleet_arguments(parser, default_workers=0)
    return parser


def judge(record: RunRecord, report_dir: Path, generator_cpu_max: float) -> int:
    """Certify a finished run into ``report_dir``; the exit status (0 = certified)."""
    from simulator.certify import certify

    report_dir.mkdir(parents=True, exist_ok=True)
    record.save(report_dir / RECORD_NAME)
    verdict = certify(record, report_dir, generator_cpu_limit=generator_cpu_max)
    print(verdict.headline)
    print(f"report: {report_dir / 'report.html'}")
    return int(verdict.exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    started = start_fleet_command(build_parser(), argv)
    if started is None:
        return EXIT_USAGE
    args, scenario = started
    check = check_or_explain("vigie certify", args, scenario)
    if not check.ok:
        # The report says why nothing ran (exit 3), as a failed run's report says why it failed.
        from simulator.run.plan import planned_record

        record = planned_record(scenario, args.scenario, args.target)
        record.target_problems = list(check.problems)
        record.notes = list(check.notes)
        record.ended_at = record.started_at
        return judge(record, args.report, scenario.slos.generator_cpu_max)
    from simulator.run.faults import FaultControl, preflight
    from simulator.run.summary import print_summary

    control = FaultControl(operator_token=args.operator_token)
    for line in preflight(scenario, control):
        print(f"vigie certify: {line}", file=sys.stderr)
    record, interrupted = run_scenario_fleet(
        args, scenario, args.target, log_dir=args.report / "logs", fault_control=control
    )
    print_summary(record)
    status = judge(record, args.report, scenario.slos.generator_cpu_max)
    if interrupted:
        print("vigie certify: interrupted, the report covers the run until then", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status
