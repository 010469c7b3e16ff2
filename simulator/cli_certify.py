"""``vigie certify SCENARIO --target URL --report DIR``: run the waves, judge, report.

Writes ``DIR/record.json`` (the run record), ``DIR/report.json`` and ``DIR/report.html``;
exits 0 only when the scenario is certified (never on a generator-bound run), 1 when it
is not, 2 on bad usage or an invalid scenario.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from simulator.record import RunRecord
from simulator.run_cli import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    add_fleet_arguments,
    add_scenario_arguments,
    check_workers,
    gevent_first,
    load_or_explain,
    overrides_of,
    parse,
)

RECORD_NAME = "record.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie certify",
        description="Run a scenario's waves against a server, judge its SLOs, write a report.",
    )
    add_scenario_arguments(parser)
    parser.add_argument("--target", required=True, help="exam server base URL")
    parser.add_argument("--report", type=Path, required=True, help="report directory")
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
    parser = build_parser()
    args = parse(parser, argv)
    gevent_first()
    check_workers(parser, args)
    scenario = load_or_explain(args)
    if scenario is None:
        return EXIT_USAGE
    from simulator.run_summary import print_summary
    from simulator.runner import FleetOptions, Interrupted, run_fleet

    interrupted = Interrupted()

    record = run_fleet(
        FleetOptions(
            scenario=scenario,
            scenario_ref=args.scenario,
            target=args.target,
            overrides=overrides_of(args),
            workers=args.workers,
            metrics_port=args.metrics_port,
            log_dir=args.report / "logs",
        ),
        interrupted,
    )
    print_summary(record)
    status = judge(record, args.report, scenario.slos.generator_cpu_max)
    if interrupted:
        print("vigie certify: interrupted, the report covers the run until then", file=sys.stderr)
        return EXIT_INTERRUPTED
    return status
