"""Exam-server heartbeat benchmark: N tablets heartbeating, next to a bare echo.

For each of (bare aiohttp echo, vigie exam server) x (no compression,
permessage-deflate), in the same run:

* heartbeat round trip p50 / p99 seen by the tablets, and heartbeats never answered,
* server CPU per heartbeat (server process CPU time over the window / heartbeats answered),
* memory per connected tablet (server RSS growth / tablets connected),
* next to them, the client's own event-loop lag and CPU: a figure is the server's only
  while the client is idle (lag of a few ms, CPU well under a core),
* for vigie, what its own ``/metrics`` say of the window: its event-loop lag (p99 and the
  worst, by histogram bucket) and its garbage collections per generation (count, total and
  worst pause): where a tail comes from. ``--profile DIR`` also records the server with
  py-spy over the window (a flame graph per mode), when py-spy is installed.

then the vigie figures as ratios of the echo's. Targets (issue 12): 12,000 tablets,
p99 < 50 ms, CPU per heartbeat <= 1.5x echo, <= 40 KiB per tablet uncompressed and
<= 130 KiB with permessage-deflate.

    .venv/bin/python bench/server_heartbeat.py [--tablets 12000] [--duration 30] [--only plain]

The tablets are ``bench/hb_client.py`` processes (``--client-procs``, bare asyncio, GC off
in the window): each tablet connects at a steady rate and beats from its first second, at a
random phase, as a room of tablets switched on. The measured window opens ``--settle``
seconds after the last connection. Everything runs on 127.0.0.1; the server is a subprocess
so its CPU and RSS are its own. Every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
from prometheus_client.parser import text_string_to_metric_families

from vigie.testing import free_port
from vigie.wire.metrics import Metric

ROOT = Path(__file__).resolve().parent.parent
SEED = 7


@dataclass
class Fleet:
    """What the client processes reported, with the server's CPU and memory."""

    cpu_s: float
    rss_growth: int
    rtts: list[float] = field(default_factory=list)
    connected: int = 0
    failed: int = 0
    closed: int = 0
    sent: int = 0
    client_lag_p99: float = 0.0
    client_lag_max: float = 0.0
    client_cpu: float = 0.0
    server: dict[str, str] = field(default_factory=dict)  # the server's own figures, in words


@dataclass
class Result:
    label: str
    tablets: int
    connected: int
    heartbeats: int
    unanswered: int
    p50_ms: float
    p99_ms: float
    cpu_us_per_hb: float
    kib_per_tablet: float
    client_lag_p99_ms: float
    client_lag_max_ms: float
    client_cpu: float
    server: dict[str, str] = field(default_factory=dict)


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
    paths: list[str], port: int, compress: bool, args: argparse.Namespace, server: psutil.Process
) -> Fleet:
    """The fleet in ``--client-procs`` lean processes (bench/hb_client.py), staggered from
    the first connection; the server's CPU and memory over the window they measure in."""
    rss_before = server.memory_info().rss
    procs = max(1, args.client_procs)
    ramp = len(paths) / args.rate
    start = time.time() + 2.0  # the client processes' own start-up
    window = (start + ramp + args.settle, start + ramp + args.settle + args.duration)
    with tempfile.TemporaryDirectory() as tmp:
        children = []
        for k in range(procs):
            share = Path(tmp) / f"paths-{k}"
            share.write_text("\n".join(paths[k::procs]))
            cmd = [sys.executable, str(ROOT / "bench" / "hb_client.py"), "--port", str(port)]
            cmd += [
                "--paths",
                str(share),
                "--start",
                f"{start:.3f}",
                "--rate",
                f"{args.rate / procs:g}",
            ]
            cmd += [
                "--window",
                f"{window[0]:.3f}",
                f"{window[1]:.3f}",
                "--interval",
                f"{args.interval:g}",
            ]
            cmd += ["--deflate"] if compress else []
            # Popen returns at once; the waits below are the event loop's.
            children.append(subprocess.Popen(cmd, stdout=subprocess.PIPE))  # noqa: ASYNC220
        await asyncio.sleep(max(0.0, window[0] - time.time()))
        cpu0 = server.cpu_times()
        before = await histograms(port) if args.server_metrics else None
        spy = profile(server.pid, args, window[1] - window[0], compress)
        await asyncio.sleep(max(0.0, window[1] - time.time()))
        cpu1 = server.cpu_times()
        after = await histograms(port) if args.server_metrics else None
        if spy is not None:
            await asyncio.to_thread(spy.wait, 60)
        # After the heartbeats: compressors are allocated at a socket's first send.
        rss_growth = server.memory_info().rss - rss_before
        reports = []
        for child in children:
            out, _ = await asyncio.to_thread(child.communicate, timeout=60)
            reports.append(json.loads(out))
    fleet = Fleet(
        cpu_s=(cpu1.user + cpu1.system) - (cpu0.user + cpu0.system), rss_growth=rss_growth
    )
    for r in reports:
        fleet.rtts += r["rtts"]
        fleet.connected += r["connected"]
        fleet.failed += r["failed"]
        fleet.closed += r["closed_by_server"]
        fleet.sent += r["sent_in_window"]
        fleet.client_lag_p99 = max(fleet.client_lag_p99, r["lag_p99_ms"] or 0.0)
        fleet.client_lag_max = max(fleet.client_lag_max, r["lag_max_ms"] or 0.0)
        fleet.client_cpu = max(fleet.client_cpu, r["cpu_share"])
    if before is not None and after is not None:
        fleet.server = server_figures(before, after)
    return fleet


Buckets = dict[tuple[str, str], list[tuple[float, float]]]  # (metric, label) -> (le, count)


async def histograms(port: int) -> Buckets | None:
    """The server's loop-lag and GC histograms now (None: not a vigie server)."""
    wanted = {Metric.LOOP_LAG.value: "", Metric.GC_PAUSE.value: "generation"}
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/metrics") as r,
        ):
            if r.status != 200:
                return None
            text = await r.text()
    except aiohttp.ClientError:
        return None
    out: Buckets = {}
    for family in text_string_to_metric_families(text):
        if family.name not in wanted:
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                key = (family.name, sample.labels.get(wanted[family.name], ""))
                out.setdefault(key, []).append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                key = (family.name, sample.labels.get(wanted[family.name], ""))
                out.setdefault(key, []).append((-1.0, sample.value))  # -1: the sum
    return out


def server_figures(before: Buckets, after: Buckets) -> dict[str, str]:
    """The window's share of each histogram: loop lag p99 and worst, GC by generation."""
    out: dict[str, str] = {}
    for key, rows in sorted(after.items()):
        old = dict(before.get(key, []))
        delta = [(le, count - old.get(le, 0.0)) for le, count in rows]
        total_s = next((c for le, c in delta if le == -1.0), 0.0)
        buckets = sorted((le, c) for le, c in delta if le >= 0)
        n = buckets[-1][1] if buckets else 0.0  # the +Inf bucket: every observation
        if not n:
            continue
        worst = next(le for le, c in buckets if c >= n)
        p99 = next(le for le, c in buckets if c >= 0.99 * n)
        if key[0] == Metric.LOOP_LAG.value:
            out["loop lag"] = f"p99 <= {p99 * 1000:g} ms, worst <= {worst * 1000:g} ms"
        else:
            out[f"gc gen {key[1]}"] = (
                f"{n:.0f} collections, {total_s * 1000:.0f} ms in all, worst <= {worst * 1000:g} ms"
            )
    return out


def profile(
    pid: int, args: argparse.Namespace, seconds: float, compress: bool
) -> subprocess.Popen[bytes] | None:
    """py-spy over the window into ``--profile`` (None when not asked or not installed)."""
    if args.profile is None:
        return None
    exe = shutil.which("py-spy")
    if exe is None:
        print("--profile: py-spy is not installed (pip install py-spy)", file=sys.stderr)
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile / f"server-{'deflate' if compress else 'plain'}-{pid}.svg"
    cmd = [exe, "record", "-p", str(pid), "-d", f"{max(1, int(seconds))}", "-o", str(out)]
    return subprocess.Popen(
        [*cmd, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


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
                paths = ["/ws"] * n
            else:
                paths = [f"/api/v1/ws?token={t}" for t in await vigie_tokens(base, n)]
            fleet = await run_fleet(paths, port, compress, args, server)
    rtts = sorted(fleet.rtts)
    hb = len(rtts)
    return Result(
        label=label,
        tablets=n,
        connected=fleet.connected,
        heartbeats=hb,
        unanswered=fleet.sent - hb,
        p50_ms=percentile(rtts, 0.50),
        p99_ms=percentile(rtts, 0.99),
        cpu_us_per_hb=fleet.cpu_s / hb * 1e6 if hb else float("nan"),
        kib_per_tablet=fleet.rss_growth / max(1, fleet.connected) / 1024,
        client_lag_p99_ms=fleet.client_lag_p99,
        client_lag_max_ms=fleet.client_lag_max,
        client_cpu=fleet.client_cpu,
        server=fleet.server,
    )


def print_table(results: list[Result]) -> None:
    head = (
        f"{'run':<24}{'tablets':>8}{'hb':>8}{'lost hb':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'CPU us/hb':>10}{'KiB/tab':>9}{'client lag p99/max ms':>23}{'client CPU':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        lag = f"{r.client_lag_p99_ms:.1f} / {r.client_lag_max_ms:.1f}"
        print(
            f"{r.label:<24}{r.connected:>8}{r.heartbeats:>8}{r.unanswered:>8}{r.p50_ms:>8.2f}"
            f"{r.p99_ms:>8.2f}{r.cpu_us_per_hb:>10.1f}{r.kib_per_tablet:>9.1f}{lag:>23}"
            f"{r.client_cpu:>10.0%}"
        )
    for r in results:
        for what, figure in r.server.items():
            print(f"  {r.label}, in the window: {what}: {figure}")


async def amain(args: argparse.Namespace) -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.tablets + 100 > hard:
        print(f"fd limit {hard} too low for {args.tablets} tablets", file=sys.stderr)
        return 2
    results: list[Result] = []
    modes = {"plain": (False,), "deflate": (True,)}.get(args.only or "", (False, True))
    for compress in modes:
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
            f"(target <= 1.5x), memory {vigie.kib_per_tablet:.1f} KiB per tablet "
            f"({vigie.kib_per_tablet / max(0.1, echo.kib_per_tablet):.2f}x echo; target "
            f"{'130' if 'deflate' in vigie.label else '40'} KiB), p99 {vigie.p99_ms:.1f} ms "
            "(target < 50 ms)"
        )
    worst = max(r.client_lag_p99_ms for r in results)
    print(
        f"client event-loop lag p99 at most {worst:.1f} ms"
        + (" (the client lagged: figures above include it)" if worst > 10 else "")
    )
    print(f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f})")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=12_000)
    parser.add_argument("--duration", type=float, default=30.0, help="steady-state seconds per run")
    parser.add_argument("--interval", type=float, default=5.0, help="heartbeat interval, seconds")
    parser.add_argument("--rate", type=float, default=400.0, help="connections per second")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before the window")
    parser.add_argument(
        "--client-procs", type=int, default=2, help="client processes holding the fleet"
    )
    parser.add_argument("--only", choices=("plain", "deflate"), help="one mode only")
    parser.add_argument(
        "--no-server-metrics",
        dest="server_metrics",
        action="store_false",
        help="do not read the server's /metrics at the window's ends",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="record the vigie server with py-spy here"
    )
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    sys.exit(asyncio.run(amain(args)))


if __name__ == "__main__":
    main()
