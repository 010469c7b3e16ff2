"""``vigie serve``: run the exam server (one aiohttp process, SQLite in WAL mode)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from scenarios import ScenarioError, load_scenario, resolve
from scenarios.serving import ServerSpec, server_spec, thresholds
from vigie.centres import load_centres
from vigie.correction.rules import load_rules
from vigie.demo import demo_counts, read_demo_counts
from vigie.protocol import DEFAULT_HEARTBEAT_INTERVAL_S

from .bootstrap import stored_roster
from .listen import Listener, serve
from .settings import DEFAULT_SEED, DEFAULT_TOKEN_TTL_S, ServerSettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vigie serve",
        description="Run the vigie exam server. With --scenario, the scenario's roster and "
        "knobs; an option given here wins over the scenario's knob.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--db",
        type=Path,
        default=None,
        help="SQLite file (default var/vigie.sqlite3, with --scenario var/<scenario>.sqlite3)",
    )
    p.add_argument(
        "--scenario",
        metavar="NAME",
        default=None,
        help="serve a scenario's roster (its centres' counts and seed) with its knobs: "
        "a shipped name (smoke, ecnp-2022-01-21, ...) or a YAML path",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="with --scenario: override a scenario value, as vigie certify --set does",
    )
    p.add_argument(
        "--no-cap",
        action="store_true",
        help="with --scenario: same as --set server.max_connections=0",
    )
    knob = "default: the scenario's, else"
    p.add_argument(
        "--max-connections", type=int, help=f"cap on open tablet websockets, 0 = none ({knob} 0)"
    )
    p.add_argument("--latency-ms", type=float, help=f"latency injected into API calls ({knob} 0)")
    p.add_argument("--error-rate", type=float, help=f"share of API calls answered 503 ({knob} 0)")
    p.add_argument(
        "--tiers-temps-share",
        type=float,
        help="share of the demo roster's candidates with planned extra time, a third of each"
        " unit (a new database only; default 0.03, or the scenario's tiers_temps)",
    )
    p.add_argument(
        "--request-cpu-ms",
        type=float,
        help=f"CPU burnt on the event loop by every API call, a saturating server ({knob} 0)",
    )
    p.add_argument(
        "--heartbeat-interval",
        type=float,
        help=f"seconds between tablet heartbeats ({knob} {DEFAULT_HEARTBEAT_INTERVAL_S:g})",
    )
    p.add_argument(
        "--late-after",
        type=float,
        help="silence before a tablet is late, s (default: the scenario's, else max(10, 2 x heartbeat))",
    )
    p.add_argument(
        "--lost-after",
        type=float,
        help="silence before a tablet is lost, s (default: the scenario's, else max(15, 3 x heartbeat))",
    )
    p.add_argument(
        "--ws-compression",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="accept permessage-deflate (real tablet WebViews negotiate it; default on)",
    )
    p.add_argument(
        "--demo", type=int, default=None, metavar="N", help="N demo candidates over the centres"
    )
    p.add_argument(
        "--demo-counts",
        type=Path,
        default=None,
        metavar="FILE",
        help='a JSON file holding {"CENTRE": count, ...}',
    )
    p.add_argument("--seed", type=int, default=None, help=f"default {DEFAULT_SEED}")
    p.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL_S, help="seconds")
    p.add_argument("--centres", type=Path, default=None, help="centres YAML file")
    p.add_argument("--backlog", type=int, default=4096, help="listen backlog (connection waves)")
    p.add_argument(
        "--operator-token",
        default=os.environ.get("VIGIE_OPERATOR_TOKEN"),
        help="enables fault control (POST /api/v1/operator/faults) for the holder of this"
        " token (default: $VIGIE_OPERATOR_TOKEN; unset: fault control is off)",
    )
    p.add_argument(
        "--unsafe-ack-before-commit",
        action="store_true",
        help="TEST ONLY, never in production: acknowledge answers before their commit (a"
        " db_stall then acknowledges what it does not commit, and a kill -9 loses it), to show"
        " that the certifier's reconciliation fails such a server",
    )
    p.add_argument(
        "--tls-cert",
        type=Path,
        help="serve HTTPS and WSS with this certificate chain (PEM): real tablets need it,"
        " browsers decrypt subjects (WebCrypto) only on HTTPS or on the server itself",
    )
    p.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    p.add_argument(
        "--tls-port",
        type=int,
        help="with --tls-cert/--tls-key: HTTPS on this port and plain HTTP on --port, both"
        " at once (a mixed rehearsal: the simulated fleet on HTTP, real tablets on HTTPS);"
        " without it, --port itself is HTTPS",
    )
    p.add_argument(
        "--rules",
        type=Path,
        help="the correction's rules file for the jury's results (docs/correction.md;"
        " default: the scenario's correction_rules, else vigie-edn); checked at start",
    )
    p.add_argument("--log-level", default="INFO")
    return p


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The server's TLS context, or None for plain HTTP; ValueError on a bad pair."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ValueError("--tls-cert and --tls-key go together")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load the TLS certificate {cert} and key {key}: {exc}") from exc
    return ctx


T = TypeVar("T")
_ROSTER_OPTIONS = ("demo", "demo_counts", "seed", "centres")


def _scenario_spec(args: argparse.Namespace) -> ServerSpec | None:
    if args.scenario is None:
        if args.overrides or args.no_cap:
            raise ValueError("--set and --no-cap apply to a --scenario")
        return None
    given = [f"--{o.replace('_', '-')}" for o in _ROSTER_OPTIONS if getattr(args, o) is not None]
    if given:
        raise ValueError(
            f"--scenario sets the roster: drop {', '.join(given)} (or --set seed=..., centres...)"
        )
    overrides = [*args.overrides, *(["server.max_connections=0"] if args.no_cap else [])]
    try:
        scenario = load_scenario(args.scenario, overrides)
    except ScenarioError as exc:
        raise ValueError(f"invalid scenario\n{exc}") from None
    return server_spec(scenario, resolve(args.scenario).parent)


def _counts(args: argparse.Namespace) -> dict[str, int]:
    if args.demo_counts is not None:
        return read_demo_counts(args.demo_counts)
    return demo_counts(args.demo if args.demo is not None else 100, load_centres(args.centres))


def settings_from(args: argparse.Namespace) -> ServerSettings:
    spec = _scenario_spec(args)
    if spec is None:
        spec = ServerSpec(
            scenario="",
            seed=args.seed if args.seed is not None else DEFAULT_SEED,
            counts=_counts(args),
            centres_file=args.centres,
        )
    hb = _given(args.heartbeat_interval, spec.heartbeat_interval_s)
    if args.heartbeat_interval is None:
        late, lost = spec.late_after_s, spec.lost_after_s
    else:  # thresholds not given follow a heartbeat given here
        late, lost = thresholds(hb, None, None)
    late = _given(args.late_after, late)
    lost = args.lost_after if args.lost_after is not None else max(lost, late + hb)
    db = args.db or Path("var") / f"{spec.scenario or 'vigie'}.sqlite3"
    return ServerSettings(
        db_path=db,
        demo_counts={code: n for code, n in spec.counts.items() if n > 0},
        seed=spec.seed,
        centres_file=spec.centres_file,
        max_connections=_given(args.max_connections, spec.max_connections),
        operator_token=args.operator_token or None,
        latency_ms=_given(args.latency_ms, spec.latency_ms),
        error_rate=_given(args.error_rate, spec.error_rate),
        request_cpu_ms=_given(args.request_cpu_ms, spec.request_cpu_ms),
        heartbeat_interval_s=hb,
        late_after_s=late,
        lost_after_s=lost,
        ws_compression=_given(args.ws_compression, spec.ws_compression),
        token_ttl_s=args.token_ttl,
        scenario=spec.scenario or None,
        tiers_temps_share=_given(args.tiers_temps_share, spec.tiers_temps_share),
        tiers_temps_ratio=spec.tiers_temps_ratio,
        unsafe_ack_before_commit=args.unsafe_ack_before_commit,
        rules_path=args.rules or spec.rules_file,
    )


def _given(value: T | None, default: T) -> T:
    return default if value is None else value


def check_stored_roster(settings: ServerSettings) -> None:
    """With --scenario, a database created for another roster is refused, not silently served."""
    if settings.scenario is None:
        return
    stored = stored_roster(settings.db_path)
    if stored is None:
        return
    seed, counts = stored
    if seed == settings.seed and counts == settings.demo_counts:
        return
    raise ValueError(
        f"{settings.db_path} holds another roster (seed {seed}, {sum(counts.values()):,} "
        f"candidates in {len(counts)} centres) than scenario {settings.scenario} (seed "
        f"{settings.seed}, {sum(settings.demo_counts.values()):,} candidates in "
        f"{len(settings.demo_counts)} centres); a database keeps the roster it was created "
        "with: give another --db, or remove this file"
    )


def describe(settings: ServerSettings, port: int) -> str:
    """What a scenario's server says first: what it serves, and the fleet command to use."""
    counts = settings.demo_counts
    cap = f"{settings.max_connections:,}" if settings.max_connections else "none"
    return (
        f"serving scenario {settings.scenario}: {sum(counts.values()):,} candidates in "
        f"{len(counts)} centres (seed {settings.seed}), connection cap {cap}, heartbeat "
        f"{settings.heartbeat_interval_s:g} s (late {settings.late_after_s:g} s, lost "
        f"{settings.lost_after_s:g} s), database {settings.db_path}\n"
        f"fleet: vigie certify {settings.scenario} --target http://127.0.0.1:{port} --report DIR"
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
        ssl_context = tls_context(args.tls_cert, args.tls_key)
        if args.tls_port is not None and ssl_context is None:
            raise ValueError("--tls-port needs --tls-cert and --tls-key")
        if args.tls_port is not None and args.tls_port == args.port:
            raise ValueError("--tls-port must differ from --port")
        settings = settings_from(args)
        check_stored_roster(settings)
        if settings.rules_path is not None:
            load_rules(settings.rules_path)  # a bad file is refused now, not at the close
    except (ValueError, OSError) as exc:
        print(f"vigie serve: {exc}", file=sys.stderr)
        return 2
    from .app import create_app  # aiohttp app import after argument errors are reported

    app = create_app(settings)
    if settings.unsafe_ack_before_commit:
        logging.getLogger(__name__).warning(
            "--unsafe-ack-before-commit: answers are acknowledged BEFORE they are committed; "
            "a crash loses acknowledged answers (test only)"
        )
    if settings.scenario is not None:
        print(describe(settings, args.port), flush=True)
    # The roster, packages and libraries live as long as the process: out of the cyclic
    # GC's reach, a full collection no longer walks them (~45 ms at 12,000 candidates).
    gc.collect()
    gc.freeze()

    def say(*text: object) -> None:
        print(*text, flush=True)

    if args.tls_port is not None:
        listeners = [
            Listener(args.host, args.port),
            Listener(args.host, args.tls_port, ssl_context),
        ]
        say(f"tablets open {listeners[1].url}/tablet/ (the fleet: {listeners[0].url})")
        serve(app, listeners, new_loop(), backlog=args.backlog, shutdown_timeout=10.0, say=say)
        return 0
    scheme = "https" if ssl_context is not None else "http"
    say(f"tablets open {scheme}://{args.host}:{args.port}/tablet/")
    # run_app handles SIGINT/SIGTERM: on_shutdown closes sockets (1001), cleanup flushes the writer.
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        backlog=args.backlog,
        ssl_context=ssl_context,
        access_log=None,
        loop=new_loop(),
        shutdown_timeout=10.0,
        print=say,
    )
    return 0
