"""Exam-server heartbeat benchmark: N tablets heartbeating, next to a bare echo.

For each of (bare aiohttp echo, vigie exam server) x (no compression,
permessage-deflate), in the same run:

* heartbeat round trip p50 / p99 seen by the tablets,
* server CPU per heartbeat (server process CPU time / heartbeats answered),
* memory per connected tablet (server RSS growth / tablets connected),

then the vigie figures as ratios of the echo's. Targets (issue 2): 12,000 tablets,
p99 < 50 ms, CPU per heartbeat <= 1.5x echo, < 40 KiB per tablet uncompressed.

    .venv/bin/python bench/server_heartbeat.py [--tablets 12000] [--duration 30]

Everything runs on 127.0.0.1; the server is a subprocess so its CPU and RSS are
its own. Every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
import psutil

from vigie.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
SEED = 7


@dataclass
class Result:
    label: str
    tablets: int
    heartbeats: int
    p50_ms: float
    p99_ms: float
    cpu_us_per_hb: float
    kib_per_tablet: float


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


@contextlib.asynccontextmanager
async def server_process(cmd: list[str], port: int) -> AsyncIterator[psutil.Process]:
    # Popen returns at once; the waits below are the event loop's.
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: ASYNC220
    try:
        deadline = time.monotonic() + 120
        async with aiohttp.ClientSession() as http:
            while True:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"server exited early: {err[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("server not healthy within 120 s")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.2)
        yield psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def vigie_tokens(base: str, n: int) -> list[str]:
    from vigie.demo import access_code, demo_counts, roster

    candidates = roster(demo_counts(n), SEED)
    sem = asyncio.Semaphore(64)
    tokens: list[str] = []

    async def login(http: aiohttp.ClientSession, cid: str, centre: str) -> None:
        body = {"candidate_id": cid, "centre": centre, "access_code": access_code(SEED, cid)}
        async with sem, http.post(f"{base}/api/v1/login", json=body) as r:
            if r.status != 200:
                raise RuntimeError(f"login {cid}: {r.status} {await r.text()}")
            tokens.append((await r.json())["token"])

    conn = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=conn) as http:
        await asyncio.gather(*(login(http, c.candidate_id, c.centre) for c in candidates))
    return tokens


async def run_fleet(
    urls: list[str], compress: bool, interval: float, duration: float, server: psutil.Process
) -> tuple[int, list[float], float, float]:
    """Connect every url, heartbeat for `duration` s; returns (hb, rtts, cpu_s, rss_growth)."""
    rss_before = server.memory_info().rss
    conn = aiohttp.TCPConnector(limit=0, force_close=False)
    http = aiohttp.ClientSession(connector=conn)
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    sem = asyncio.Semaphore(200)

    async def connect(url: str) -> None:
        async with sem:
            ws = await http.ws_connect(
                url, compress=15 if compress else 0, autoping=True, heartbeat=None
            )
            sockets.append(ws)

    try:
        await asyncio.wait_for(asyncio.gather(*(connect(u) for u in urls)), timeout=300)
        await asyncio.sleep(2)  # let the server settle (welcome messages, GC)
        rtts: list[float] = []
        stop_at = time.monotonic() + duration
        cpu0 = server.cpu_times()

        async def beat(ws: aiohttp.ClientWebSocketResponse) -> None:
            await asyncio.sleep(random.uniform(0, interval))
            seq = 0
            while time.monotonic() < stop_at:
                seq += 1
                hb = {
                    "type": "hb",
                    "seq": seq,
                    "unit_id": None,
                    "position": 0,
                    "answered": 0,
                    "battery": 80,
                    "network": "wifi",
                    "client_ts": time.time(),
                }
                t0 = time.perf_counter()
                await ws.send_str(orjson.dumps(hb).decode())
                while True:  # skip pushes (welcome, launch) until our ack
                    msg = await ws.receive(timeout=30)
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        return
                    if orjson.loads(msg.data).get("type") == "hb_ack":
                        break
                rtts.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - t0)))

        await asyncio.wait_for(
            asyncio.gather(*(beat(ws) for ws in sockets), return_exceptions=True), duration + 60
        )
        cpu1 = server.cpu_times()
        cpu_s = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        # Measured after heartbeats: compressors are allocated at a socket's first send.
        rss_growth = server.memory_info().rss - rss_before
        return len(rtts), rtts, cpu_s, rss_growth
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await http.close()


async def measure(
    label: str, target: str, n: int, compress: bool, args: argparse.Namespace
) -> Result:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        if target == "echo":
            cmd = [sys.executable, str(ROOT / "bench" / "echo_server.py"), "--port", str(port)]
            cmd += ["--compress"] if compress else []
        else:
            cmd = [
                sys.executable,
                "-m",
                "vigie",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            cmd += ["--db", str(Path(tmp) / "bench.sqlite3"), "--demo", str(n), "--seed", str(SEED)]
            cmd += ["--ws-compression" if compress else "--no-ws-compression"]
        async with server_process(cmd, port) as server:
            base = f"http://127.0.0.1:{port}"
            if target == "echo":
                urls = [f"ws://127.0.0.1:{port}/ws"] * n
            else:
                tokens = await vigie_tokens(base, n)
                urls = [f"ws://127.0.0.1:{port}/api/v1/ws?token={t}" for t in tokens]
            hb, rtts, cpu_s, rss_growth = await run_fleet(
                urls, compress, args.interval, args.duration, server
            )
    rtts.sort()
    return Result(
        label=label,
        tablets=n,
        heartbeats=hb,
        p50_ms=percentile(rtts, 0.50),
        p99_ms=percentile(rtts, 0.99),
        cpu_us_per_hb=cpu_s / hb * 1e6 if hb else float("nan"),
        kib_per_tablet=rss_growth / n / 1024,
    )


def print_table(results: list[Result]) -> None:
    head = f"{'run':<28}{'tablets':>8}{'hb':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/hb':>11}{'KiB/tablet':>12}"
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.label:<28}{r.tablets:>8}{r.heartbeats:>8}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.cpu_us_per_hb:>11.1f}{r.kib_per_tablet:>12.1f}"
        )


async def amain(args: argparse.Namespace) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.tablets + 100 > hard:
        print(f"fd limit {hard} too low for {args.tablets} tablets", file=sys.stderr)
        return 2
    results: list[Result] = []
    for compress in (False, True):
        mode = "deflate" if compress else "plain"
        echo = await measure(f"bare echo, {mode}", "echo", args.tablets, compress, args)
        vigie = await measure(f"vigie server, {mode}", "vigie", args.tablets, compress, args)
        results += [echo, vigie]
    print_table(results)
    print()
    for i in range(0, len(results), 2):
        echo, vigie = results[i], results[i + 1]
        print(
            f"{vigie.label}: CPU/hb {vigie.cpu_us_per_hb / echo.cpu_us_per_hb:.2f}x echo "
            f"(target <= 1.5x), memory {vigie.kib_per_tablet / echo.kib_per_tablet:.2f}x echo, "
            f"p99 {vigie.p99_ms:.1f} ms (target < 50 ms)"
        )
    plain = results[1]
    print(f"vigie plain: {plain.kib_per_tablet:.1f} KiB per tablet (target < 40 KiB)")
    print(f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f})")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=12_000)
    parser.add_argument("--duration", type=float, default=30.0, help="steady-state seconds per run")
    parser.add_argument("--interval", type=float, default=5.0, help="heartbeat interval, seconds")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    sys.exit(asyncio.run(amain(args)))


if __name__ == "__main__":
    main()
