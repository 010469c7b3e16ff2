"""``vigie dashboard --server URL [--port P] [--lang fr|en]``: the jury's supervision view."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

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
    p.add_argument("--debug", action="store_true")
    return p.parse_args(list(argv))


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from supervision_dashboard.app import create_app

    app, ctx = create_app(args.server, args.lang, args.feed_interval, args.refresh_ms)
    print(f"vigie dashboard: http://{args.host}:{args.port}/ (server {args.server})", flush=True)
    try:
        # Flask's threaded server: one thread per request, enough for a few dozen jurors.
        app.run(host=args.host, port=args.port, debug=args.debug, threaded=True)
    finally:
        ctx.feeds.stop()
    return 0
