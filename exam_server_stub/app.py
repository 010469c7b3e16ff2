"""The aiohttp application factory and its background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from vigie.centres import load_centres
from vigie.protocol import MAX_HTTP_BODY_BYTES, DisconnectReason, WsClose

from . import bad_requests, conntest_routes, results_routes
from .bootstrap import bootstrap
from .exam import Exam
from .faults import Faults
from .gcwatch import GcWatch, freeze_every
from .keys import EXAM, FAULTS, METRICS, SETTINGS, SIGNER, WRITER
from .metrics import Metrics
from .middleware import error_mw, fault_mw, metrics_mw
from .route_tables import TABLES
from .settings import ServerSettings
from .state import Socket
from .store import Writer
from .tokens import TokenSigner

log = logging.getLogger(__name__)
LAG_PROBE_S = 0.25


def create_app(settings: ServerSettings) -> web.Application:
    bad_requests.install()
    centres = load_centres(settings.centres_file)
    bootstrap(settings.db_path, settings.demo_counts, settings.seed, centres)
    metrics = Metrics()
    metrics.connection_cap.set(settings.max_connections)
    exam = Exam(settings, centres, metrics)
    metrics.known_centres(exam.by_centre)
    app = web.Application(
        middlewares=[metrics_mw, error_mw, fault_mw], client_max_size=MAX_HTTP_BODY_BYTES
    )
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[EXAM] = exam
    app[SIGNER] = TokenSigner(exam.secret, settings.token_ttl_s)
    for table in TABLES:
        app.add_routes(table)
    results_routes.setup(app)
    conntest_routes.setup(app)
    app[FAULTS] = Faults(
        settings.latency_ms, settings.error_rate, lambda seconds: app[WRITER].stall(seconds)
    )
    app.cleanup_ctx.append(_writer_ctx)
    app.cleanup_ctx.append(_sweeper_ctx)
    app.cleanup_ctx.append(_lag_probe_ctx)
    app.cleanup_ctx.append(_gc_watch_ctx)
    app.on_shutdown.append(_close_sockets)
    return app


async def _writer_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    writer = Writer(
        settings.db_path,
        asyncio.get_running_loop(),
        ack_before_commit=settings.unsafe_ack_before_commit,
    )
    writer.start()
    app[WRITER] = writer
    app[EXAM].writer = writer
    app[METRICS].watch_writer(writer)
    yield
    await writer.stop()  # flushes whatever is queued (disconnect audit included)


async def _sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_sweep(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _sweep(app: web.Application) -> None:
    """Recompute supervision states; close sockets silent for ``lost_after_s`` (4002)."""
    exam = app[EXAM]
    interval = app[SETTINGS].sweep_interval_s
    closing: set[asyncio.Task[None]] = set()  # keep references: the loop holds tasks weakly
    while True:
        await asyncio.sleep(interval)
        try:
            for silent in exam.sweep_slices(exam.clock()):
                for c in silent:
                    sock = c.ws
                    if sock is not None and exam.close_for(
                        sock, DisconnectReason.HEARTBEAT_TIMEOUT
                    ):
                        task = asyncio.create_task(_close(sock))
                        closing.add(task)
                        task.add_done_callback(closing.discard)
                await asyncio.sleep(0)  # heartbeats go between slices
        except Exception:  # a sweeper that dies silently would freeze the jury's view
            log.exception("sweep failed")


async def _close(sock: Socket) -> None:
    await sock.close(code=WsClose.HEARTBEAT_TIMEOUT, message=b"no heartbeat")


async def _lag_probe_ctx(app: web.Application) -> AsyncIterator[None]:
    async def probe() -> None:
        loop = asyncio.get_running_loop()
        hist = app[METRICS].loop_lag
        while True:
            start = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            hist.observe(max(0.0, loop.time() - start - LAG_PROBE_S))

    task = asyncio.create_task(probe())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _gc_watch_ctx(app: web.Application) -> AsyncIterator[None]:
    metrics, every = app[METRICS], app[SETTINGS].gc_freeze_every_s
    watch = GcWatch(metrics.gc_pause)
    watch.install()
    task = asyncio.create_task(freeze_every(every, metrics.gc_freezes)) if every > 0 else None
    yield
    watch.remove()
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _close_sockets(app: web.Application) -> None:
    """Shutdown: every tablet gets 1001 (going away) and reconnects with backoff."""
    exam = app[EXAM]
    socks = [c.ws for c in exam.cands.values() if c.ws is not None]
    for sock in socks:
        exam.close_for(sock, DisconnectReason.SERVER_SHUTDOWN)
    for i in range(0, len(socks), 500):
        await asyncio.gather(
            *(
                s.close(code=WsClose.GOING_AWAY, message=b"server shutdown")
                for s in socks[i : i + 500]
            ),
            return_exceptions=True,
        )
