"""``vigie dashboard --server URL [--port P] [--lang fr|en]``: the jury's supervision view."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from supervision_dashboard.i18n import LANGS


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="vigie dashboard", description="national supervision view (Dash)"
    )
    p.add_argument(
        "--server", required=True, help="exam server base URL, e.g. http://127.0.0.1:8080"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--lang", choices=LANGS, default="fr")
    p.add_argument(
        "--refresh-ms", type=int, default=1500, help="browser refresh period (1000-2000)"
    )
    p.add_argument("--feed-interval", type=float, default=1.0, help="seconds between feed polls")
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="sessions and cookie key on disk (default: ~/.local/state/vigie/dashboard)",
    )
    p.add_argument("--session-hours", type=float, default=12.0, help="session lifetime")
    p.add_argument("--threads", type=int, default=32, help="request threads (gunicorn)")
    p.add_argument(
        "--dev", action="store_true", help="Flask's development server instead of gunicorn"
    )
    p.add_argument("--debug", action="store_true", help="with --dev: Flask's debugger")
    return p.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from supervision_dashboard.app import create_app
    from supervision_dashboard.sessions import default_state_dir

    state_dir = args.state_dir or default_state_dir()

    def make() -> Any:
        app, _ctx = create_app(
            args.server, args.lang, args.feed_interval, args.refresh_ms, state_dir,
            args.session_hours * 3600,
        )  # fmt: skip
        return app.server

    print(f"vigie dashboard: http://{args.host}:{args.port}/ (server {args.server})", flush=True)
    if args.dev:
        app, ctx = create_app(
            args.server, args.lang, args.feed_interval, args.refresh_ms, state_dir,
            args.session_hours * 3600,
        )  # fmt: skip
        try:
            app.run(host=args.host, port=args.port, debug=args.debug, threaded=True)
        finally:
            ctx.feeds.stop()
        return 0
    from supervision_dashboard.serve import serve

    serve(make, args.host, args.port, args.threads)
    return 0
