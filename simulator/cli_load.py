"""``vigie load SCENARIO --target URL [--workers N]``: a headless fleet run, no verdict.

Prints a summary per wave; ``--record PATH`` keeps the run record (JSON) for
``vigie certify --from-record`` or for later study.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie load", description="Run a scenario's tablet fleet against an exam server."
    )
    add_scenario_arguments(parser)
    parser.add_argument("--target", required=True, help="exam server base URL")
    add_fleet_arguments(parser, default_workers=0)
    parser.add_argument("--record", type=Path, help="write the run record (JSON) here")
    return parser


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
        ),
        interrupted,
    )
    if args.record is not None:
        record.save(args.record)
        print(f"run record: {args.record}")
    print_summary(record)
    if interrupted:
        print("vigie load: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0
