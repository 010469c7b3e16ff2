"""Supervision costs on the event loop at full scale: change feed and sweeper.

In one process, on a real SQLite file: N candidates (default 12,000) connected
(stand-in sockets), a unit launched, then, each timed with perf_counter and
compared with the full scan it replaced (measured in the same run):

* one change-feed answer (counts + changed rows + JSON) when nothing changed and
  when 100 rows changed, against scanning every candidate and recounting;
* one sweep while every tablet heartbeats, and one with 10 % of them silent,
  against refreshing every candidate.

    .venv/bin/python bench/server_supervision.py [--candidates 12000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import orjson
from aiohttp import web

from exam_server_stub.bootstrap import bootstrap
from exam_server_stub.exam import Exam
from exam_server_stub.metrics import Metrics
from exam_server_stub.settings import ServerSettings
from exam_server_stub.store import Writer
from exam_server_stub.supervision import recount
from vigie.centres import load_centres
from vigie.demo import demo_counts


class StandIn:
    closed = True  # pushes skip it: nothing to send


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median milliseconds of ``fn`` over ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


async def amain(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        centres = load_centres(None)
        settings = ServerSettings(
            db_path=Path(tmp) / "bench.sqlite3", demo_counts=demo_counts(args.candidates), seed=7
        )
        bootstrap(settings.db_path, settings.demo_counts, settings.seed, centres)
        exam = Exam(settings, centres, Metrics())
        exam.writer = Writer(settings.db_path, asyncio.get_running_loop())
        exam.writer.start()
        try:
            now = time.time()
            cands = list(exam.cands.values())
            for c in cands:
                exam.attach(c, cast(web.WebSocketResponse, StandIn()), now)
            await exam.launch("ue1", None, "bench", "jury:bench")
            u = exam.current_unit()
            rows: list[tuple[str, float, float]] = []

            def feed(since: int) -> bytes:
                changed = exam.changes.since(since)
                doc = {
                    "counts": exam.counts.doc(None),
                    "candidates": [exam.row(c, u, now) for c in changed],
                }
                return orjson.dumps(doc)

            def full_scan_feed(since: int) -> bytes:
                changed = [exam.row(c, u, now) for c in cands if c.version > since]
                return orjson.dumps({"counts": recount(cands), "candidates": changed})

            cursor = exam.cursor
            rows.append(
                (
                    "feed, nothing changed",
                    timed(lambda: feed(cursor), args.repeat),
                    timed(lambda: full_scan_feed(cursor), args.repeat),
                )
            )
            for c in cands[:100]:
                c.reconnects += 1
                exam.refresh(c, now, u)
            rows.append(
                (
                    "feed, 100 rows changed",
                    timed(lambda: feed(cursor), args.repeat),
                    timed(lambda: full_scan_feed(cursor), args.repeat),
                )
            )

            def full_refresh() -> None:
                t = time.time()
                for c in cands:
                    exam.refresh(c, t, u)

            t_quiet = now + settings.late_after_s / 2  # everyone heard recently
            rows.append(
                (
                    "sweep, all heartbeating",
                    timed(lambda: exam.sweep(t_quiet), args.repeat),
                    timed(full_refresh, args.repeat),
                )
            )
            later = now + settings.late_after_s + 1
            for c in cands[len(cands) // 10 :]:  # 90 % speak again; 10 % stay silent
                c.last_hb = later
                exam.heard.heard(c)
            rows.append(
                (
                    "sweep, 10 % silent (late)",
                    timed(lambda: exam.sweep(later + 0.5), args.repeat),
                    timed(full_refresh, args.repeat),
                )
            )
        finally:
            await exam.writer.stop()
    head = f"{'operation':<28}{'now ms':>10}{'full scan ms':>14}{'ratio':>8}"
    print(f"{args.candidates} candidates, median of {args.repeat}")
    print(head)
    print("-" * len(head))
    for label, new, old in rows:
        print(f"{label:<28}{new:>10.3f}{old:>14.3f}{new / old:>8.3f}")
    print(f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=12_000)
    parser.add_argument("--repeat", type=int, default=50)
    asyncio.run(amain(parser.parse_args()))


if __name__ == "__main__":
    main()
