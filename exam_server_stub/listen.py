"""Serving on two listeners at once: plain HTTP for the simulated fleet, HTTPS for real tablets.

``web.run_app`` gives every listener the same TLS context, so a mixed rehearsal (a fleet on
loopback, a faculty's tablets over its WiFi) needs both sites on one runner. Shutdown is
run_app's: SIGINT/SIGTERM raise ``GracefulExit``, the main task is cancelled, and the
runner's cleanup closes the tablets' sockets (1001) and flushes the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_runner import GracefulExit


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    ssl_context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"


def serve(
    app: web.Application,
    listeners: Sequence[Listener],
    loop: asyncio.AbstractEventLoop,
    *,
    backlog: int,
    shutdown_timeout: float,
    say: Callable[[str], None],
) -> None:
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, listeners, backlog, shutdown_timeout, say))
    try:
        loop.run_until_complete(main)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        main.cancel()
        with contextlib.suppress(asyncio.CancelledError, GracefulExit, KeyboardInterrupt):
            loop.run_until_complete(main)  # the runner's cleanup runs here
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve(
    app: web.Application,
    listeners: Sequence[Listener],
    backlog: int,
    shutdown_timeout: float,
    say: Callable[[str], None],
) -> None:
    runner = web.AppRunner(
        app, handle_signals=True, access_log=None, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    try:
        for item in listeners:
            site = web.TCPSite(
                runner, item.host, item.port, ssl_context=item.ssl_context, backlog=backlog
            )
            await site.start()
            say(f"======== Running on {item.url} ========")
        say("(Press CTRL+C to quit)")
        await asyncio.Event().wait()  # until the signal's GracefulExit cancels this task
    finally:
        await runner.cleanup()
