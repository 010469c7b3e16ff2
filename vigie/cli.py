"""The ``vigie`` console command: one entry point, one subcommand per component.

Each subcommand's module is imported only when it runs. This matters: the fleet
subcommands import Locust, which monkey-patches the whole process with gevent,
and that must never happen in the asyncio exam server.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module with `main(argv) -> int`, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("exam_server_stub.cli", "run the exam server (aiohttp, SQLite)"),
    "demo": ("exam_server_stub.demo_cli", "write a demo exam / roster, print demo credentials"),
    "openapi": ("exam_server_stub.openapi", "print the exam server's OpenAPI document"),
    "docs": ("vigie.docs_cli", "write the generated docs (openapi.json, wire.md) from the types"),
    "load": ("simulator.cli.load", "headless Locust fleet run of a scenario against a server"),
    "certify": ("simulator.cli.certify", "run a scenario's waves, judge SLOs, write a report"),
    "rehearse": (
        "simulator.cli.rehearse",
        "server + dashboard + fleet on this machine, then a report",
    ),
    "correct": ("vigie.correction.cli", "score, rank and write the jury's results from a database"),
    "dashboard": ("supervision_dashboard.cli", "the jury's national supervision view (Dash)"),
    "grafana": ("dashboards.cli", "Grafana dashboards and Prometheus rules: push, export"),
}


def _usage() -> str:
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["usage: vigie <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in SUBCOMMANDS.items()]
    lines += ["", "Run 'vigie <command> --help' for a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    if args[0] in {"-V", "--version"}:
        from vigie import __version__

        print(f"vigie {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"vigie: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(SUBCOMMANDS[name][0])
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
