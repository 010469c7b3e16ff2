"""``vigie load SCENARIO --target URL [--workers N]``: a headless fleet run, no verdict.

Checks the target first (exit 3, nothing run, when it does not match the scenario); prints
a summary per wave; ``--record PATH`` keeps the run record (JSON) for study.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from simulator.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_NOT_RUN,
    EXIT_USAGE,
    add_fleet_arguments,
    add_scenario_arguments,
    add_target_arguments,
    check_or_explain,
    run_scenario_fleet,
    start_fleet_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie load", description="Run a scenario's tablet fleet against an exam server."
    )
    add_scenario_arguments(parser)
    add_target_arguments(parser)
    add_fleet_arguments(parser, default_workers=0)
    parser.add_argument("--record", type=Path, help="write the run record (JSON) here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started = start_fleet_command(build_parser(), argv)
    if started is None:
        return EXIT_USAGE
    args, scenario = started
    if not check_or_explain("vigie load", args, scenario).ok:
        return EXIT_NOT_RUN
    from simulator.run.summary import print_summary

    record, interrupted = run_scenario_fleet(args, scenario, args.target)
    if args.record is not None:
        record.save(args.record)
        print(f"run record: {args.record}")
    print_summary(record)
    if interrupted:
        print("vigie load: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
