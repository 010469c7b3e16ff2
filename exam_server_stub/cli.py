"""``vigie serve``: run the exam server (one aiohttp process, SQLite in WAL mode)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from vigie.centres import load_centres
from vigie.demo import demo_counts
from vigie.protocol import DEFAULT_HEARTBEAT_INTERVAL_S, DEFAULT_LATE_AFTER_S, DEFAULT_LOST_AFTER_S

from .settings import DEFAULT_SEED, DEFAULT_TOKEN_TTL_S, ServerSettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigie serve", description="Run the vigie exam server.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--db", type=Path, default=Path("var/vigie.sqlite3"), help="SQLite file")
    p.add_argument(
        "--max-connections", type=int, default=0, help="cap on open tablet websockets (0 = none)"
    )
    p.add_argument("--latency-ms", type=float, default=0.0, help="latency injected into API calls")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of API calls answered 503")
    p.add_argument("--heartbeat-interval", type=float, default=DEFAULT_HEARTBEAT_INTERVAL_S)
    p.add_argument("--late-after", type=float, default=DEFAULT_LATE_AFTER_S)
    p.add_argument("--lost-after", type=float, default=DEFAULT_LOST_AFTER_S)
    p.add_argument(
        "--ws-compression",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="accept permessage-deflate (real tablet WebViews negotiate it)",
    )
    p.add_argument(
        "--demo", type=int, default=None, metavar="N", help="N demo candidates over the centres"
    )
    p.add_argument("--demo-counts", type=Path, default=None, help='JSON {"CENTRE": count}')
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL_S, help="seconds")
    p.add_argument("--centres", type=Path, default=None, help="centres YAML file")
    p.add_argument("--backlog", type=int, default=4096, help="listen backlog (connection waves)")
    p.add_argument(
        "--operator-token",
        default=os.environ.get("VIGIE_OPERATOR_TOKEN"),
        help="enables fault control (POST /api/v1/operator/faults) for the holder of this"
        " token (default: $VIGIE_OPERATOR_TOKEN; unset: fault control is off)",
    )
    p.add_argument("--log-level", default="INFO")
    return p


def settings_from(args: argparse.Namespace) -> ServerSettings:
    if args.demo_counts is not None:
        raw = json.loads(args.demo_counts.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in raw.items()
        ):
            raise ValueError('--demo-counts wants a JSON object {"CENTRE": count}')
        counts: dict[str, int] = raw
    else:
        counts = demo_counts(
            args.demo if args.demo is not None else 100, load_centres(args.centres)
        )
    return ServerSettings(
        db_path=args.db,
        demo_counts=counts,
        seed=args.seed,
        centres_file=args.centres,
        max_connections=args.max_connections,
        operator_token=args.operator_token or None,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        heartbeat_interval_s=args.heartbeat_interval,
        late_after_s=args.late_after,
        lost_after_s=args.lost_after,
        ws_compression=args.ws_compression,
        token_ttl_s=args.token_ttl,
    )


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows)
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # 12,000 tablets: no access log
    try:
        settings = settings_from(args)
    except (ValueError, OSError) as exc:
        print(f"vigie serve: {exc}", file=sys.stderr)
        return 2
    from .app import create_app  # aiohttp app import after argument errors are reported

    app = create_app(settings)
    # The roster, packages and libraries live as long as the process: out of the cyclic
    # GC's reach, a full collection no longer walks them (~45 ms at 12,000 candidates).
    gc.collect()
    gc.freeze()
    # run_app handles SIGINT/SIGTERM: on_shutdown closes sockets (1001), cleanup flushes the writer.
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        backlog=args.backlog,
        access_log=None,
        loop=new_loop(),
        shutdown_timeout=10.0,
        print=lambda *a: print(*a, flush=True),
    )
    return 0
