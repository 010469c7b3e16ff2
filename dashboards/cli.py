"""``vigie grafana``: the SRE mixin from the command line.

vigie grafana build                  regenerate dashboards/mixin/dashboards/*.json
vigie grafana check                  committed JSON up to date with the builder?
vigie grafana export DIR             dashboards + rules + alerts, mixin layout
vigie grafana push --url URL --token T [--folder NAME]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dashboards.boards import all_dashboards
from dashboards.mixin_files import DASHBOARDS_DIR, committed_dashboards, export, write_dashboards

TOKEN_ENV = "GRAFANA_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigie grafana", description="Grafana dashboards and Prometheus rules as code."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help=f"regenerate the dashboard JSON in {DASHBOARDS_DIR}")
    sub.add_parser("check", help="fail if the committed dashboard JSON differs from the builder")
    exp = sub.add_parser("export", help="write dashboards, recording rules and alerts to DIR")
    exp.add_argument("dir", type=Path)
    push = sub.add_parser("push", help="create or overwrite the dashboards in a running Grafana")
    push.add_argument("--url", required=True, help="Grafana root URL, e.g. http://127.0.0.1:3000")
    push.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"service-account token (default: ${TOKEN_ENV}; or user:password in --url)",
    )
    push.add_argument("--folder", default="vigie", help="folder title (created if missing)")
    push.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    return parser


def _check() -> int:
    expected = all_dashboards()
    committed = committed_dashboards()
    stale = sorted(
        name
        for name in expected.keys() | committed.keys()
        if expected.get(name) != committed.get(name)
    )
    if stale:
        print(f"out of date: {', '.join(stale)}; run 'vigie grafana build'", file=sys.stderr)
        return 1
    print(f"{len(expected)} dashboards up to date")
    return 0


def _push(args: argparse.Namespace) -> int:
    # Imported here: grafana-client (and its HTTP stack) only loads for the command that needs it.
    from grafana_client.client import GrafanaException

    from dashboards.push import push

    try:
        pushed = push(args.url, args.token, args.folder, timeout_s=args.timeout)
    except GrafanaException as exc:
        status = f" (HTTP {exc.status_code})" if exc.status_code else ""
        print(f"vigie grafana push: Grafana refused{status}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:  # connection refused, DNS, TLS: niquests errors are OSErrors
        print(f"vigie grafana push: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    for item in pushed:
        print(f"pushed {item.uid}: {item.title} {item.url}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.command == "build":
        for path in write_dashboards():
            print(path)
        return 0
    if args.command == "check":
        return _check()
    if args.command == "export":
        for path in export(args.dir):
            print(path)
        return 0
    return _push(args)
