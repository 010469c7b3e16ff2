"""Options and error handling shared by ``vigie load``, ``vigie certify`` and ``vigie rehearse``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scenarios import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from simulator.record import RunRecord
    from simulator.run.check import TargetCheck
    from simulator.runner import Interrupted

EXIT_USAGE = 2
EXIT_NOT_RUN = 3  # the target does not match the scenario, no wave started (= verdict's)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
DEFAULT_METRICS_PORT = 9646  # docs/protocol.md: the fleet's metrics on the master


def gevent_first() -> None:
    """Patch the process for gevent before anything imports ssl or sockets.

    Locust patches on import; a module that imported ssl earlier (requests, aiohttp,
    prometheus_client's exporter) then breaks with a RecursionError. The fleet commands
    call this first thing in ``main``; their modules import nothing heavy at the top so
    that ``vigie --help`` and the test runner can import them without patching.
    """
    from gevent import monkey

    monkey.patch_all()


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "scenario", help="scenario file, or a shipped name (smoke, ecnp-2022-01-21, ...)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value (YAML), e.g. --set server.max_connections=0",
    )
    parser.add_argument(
        "--no-cap",
        action="store_true",
        help="lift the server's connection cap (same as --set server.max_connections=0)",
    )


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="exam server base URL")
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip the target check (roster, unit, jury account, knobs) before the first wave",
    )


def add_fleet_arguments(parser: argparse.ArgumentParser, default_workers: int) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help=f"local Locust worker processes (0: tablets in this process; default {default_workers})",
    )
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=DEFAULT_METRICS_PORT,
        help=f"fleet Prometheus metrics on 127.0.0.1 (0: off; default {DEFAULT_METRICS_PORT})",
    )


def add_real_tablets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tablet-url",
        default=None,
        metavar="URL",
        help="the server's address for a faculty's real tablets (real_tablets in the scenario), "
        "e.g. https://vigie.faculte.fr:8443 (default: the target)",
    )


def overrides_of(args: argparse.Namespace) -> list[str]:
    items = list(args.overrides)
    if args.no_cap:
        items.append("server.max_connections=0")
    return items


def load_or_explain(args: argparse.Namespace) -> Scenario | None:
    """The scenario, or None after printing its problems (the caller exits 2)."""
    try:
        return load_scenario(args.scenario, overrides_of(args))
    except ScenarioError as exc:
        print(f"vigie: invalid scenario\n{exc}", file=sys.stderr)
        return None


def check_workers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.workers < 0:
        parser.error("--workers must be >= 0")


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    return parser.parse_args(list(argv) if argv is not None else None)


def start_fleet_command(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> tuple[argparse.Namespace, Scenario] | None:
    """Parse, patch for gevent, load the scenario: None after explaining a bad one (exit 2)."""
    args = parse(parser, argv)
    gevent_first()
    check_workers(parser, args)
    scenario = load_or_explain(args)
    if scenario is None or not network_ready(scenario, getattr(args, "target", None)):
        return None
    return args, scenario


def network_ready(scenario: Scenario, target: str | None) -> bool:
    """Whether the scenario's nftables faults can run here; if not, say why and what to do
    (``mode: simulated``) before anything starts: never a silent fallback."""
    from urllib.parse import urlsplit

    from simulator.faults import NetworkUnavailable
    from simulator.faults.addresses import is_loopback
    from simulator.faults.nft import unavailable_reason

    wanted = [i for i, f in enumerate(scenario.faults) if getattr(f, "mode", None) == "nftables"]
    if not wanted:
        return True
    host = urlsplit(target).hostname or "" if target else "127.0.0.1"
    why = unavailable_reason() if is_loopback(host) else f"the target {host} is not on the loopback"
    if why is None:
        return True
    where = ", ".join(f"faults.{i}" for i in wanted)
    print(f"vigie: cannot run {where}: {NetworkUnavailable(why)}", file=sys.stderr)
    print(
        f"  e.g. --set {(wanted[0] and f'faults.{wanted[0]}') or 'faults.0'}.mode=simulated",
        file=sys.stderr,
    )
    return False


def check_or_explain(prog: str, args: argparse.Namespace, scenario: Scenario) -> TargetCheck:
    """The target check (unless ``--no-check``); its problems are printed, with the fix."""
    from simulator.run.check import TargetCheck, check_target, explain

    if getattr(args, "no_check", False):
        return TargetCheck(args.target)
    check = check_target(scenario, args.target)
    if not check.ok:
        print(explain(check, prog, scenario, args.scenario, overrides_of(args)), file=sys.stderr)
    return check


def run_scenario_fleet(
    args: argparse.Namespace, scenario: Scenario, target: str, **options: Any
) -> tuple[RunRecord, Interrupted]:
    """``run_fleet`` with the command's scenario, overrides, workers and metrics port."""
    from simulator.runner import FleetOptions, Interrupted, run_fleet

    if scenario.real_tablets is not None and "on_start" not in options:
        options["on_start"] = _briefer(args, scenario, target)
    interrupted = Interrupted()
    record = run_fleet(
        FleetOptions(
            scenario=scenario,
            scenario_ref=args.scenario,
            target=target,
            overrides=overrides_of(args),
            workers=args.workers,
            metrics_port=args.metrics_port,
            **options,
        ),
        interrupted,
    )
    if record.real_tablets:
        from simulator.run.real import summary_lines

        for line in summary_lines(record.real_tablets):
            print(line)
        for run in record.real_tablets:
            for warning in run.warnings:
                print(f"warning: {warning}", file=sys.stderr)
    return record, interrupted


def _briefer(args: argparse.Namespace, scenario: Scenario, target: str) -> Any:
    """Prints, at run time 0, what the faculty's real tablets must do and when."""
    from simulator.run.real import briefing

    base = getattr(args, "tablet_url", None) or target

    def brief(run_start: float) -> None:
        lines = briefing(scenario, args.scenario, overrides_of(args), base, run_start)
        print("\n".join(lines), flush=True)

    return brief
