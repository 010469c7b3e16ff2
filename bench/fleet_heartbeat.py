"""Generator CPU per tablet heartbeat: vigie's TabletUser next to Tsung, same workload.

    .venv/bin/python bench/fleet_heartbeat.py                  # 12,000 tablets
    .venv/bin/python bench/fleet_heartbeat.py --tablets 2000 --hold 30

A minimal heartbeat server (aiohttp + uvloop, no compression, in its own process so it is
not the generator's bottleneck) answers every ``hb`` with an ``hb_ack`` and counts them.
Three generators then run one after the other against it, each in its own process:

1. vigie: Locust with the real :class:`simulator.tablet.TabletUser` (login over HTTP, the
   websocket, heartbeats counted in Locust's stats and in the process's tally, drained
   every 3 s as a worker's report is), everything included:
   the process CPU time of the whole run (spawn, steady state, stop) / heartbeats;
2. Tsung (``bench/tsung/heartbeat.xml``): the same tablets, heartbeat interval and hold;
   the CPU of its Erlang VM (``RUSAGE_CHILDREN``) / heartbeats the server counted;
3. (``--baseline``) a plain Locust user per tablet with websocket-client, one greenlet
   and a request event per heartbeat, at a smaller count.

Each phase is bounded in time. Figures depend on the machine's load: compare the ratios
printed, which are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vigie.testing import free_port

HERE = Path(__file__).resolve().parent


# --- the heartbeat server ----------------------------------------------------------------
def serve(port: int, interval: float, deflate: bool) -> None:
    import asyncio

    import orjson
    from aiohttp import WSMsgType, web

    from vigie.protocol import UnitState
    from vigie.wire.http import LoginOk, UnitInfo, encoder

    counts = {"hb": 0, "open": 0}
    # one unit that is never launched: tablets connect and beat, nothing else
    unit = UnitInfo(
        unit_id="U1",
        title="bench",
        kind="standard",
        question_count=1,
        duration_s=3600.0,
        state=UnitState.SCHEDULED,
        launched_at=None,
        deadline=None,
        extra_time_s=0.0,
        finished=False,
        package_sha256="",
    )
    token_doc = encoder.encode(
        LoginOk(
            token="bench", candidate_id="x", centre="x", heartbeat_interval_s=interval, units=[unit]
        )
    )

    async def login(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=token_doc, content_type="application/json")

    async def ws(request: web.Request) -> web.WebSocketResponse:
        sock = web.WebSocketResponse(compress=deflate, autoping=False, max_msg_size=8192)
        await sock.prepare(request)
        counts["open"] += 1
        try:
            async for msg in sock:
                if msg.type != WSMsgType.TEXT:
                    continue
                doc = orjson.loads(msg.data)
                if doc.get("type") == "hb":
                    counts["hb"] += 1
                    ack = {"type": "hb_ack", "seq": doc.get("seq"), "server_ts": time.time()}
                    ack["instructions"] = []
                    await sock.send_str(orjson.dumps(ack).decode())
        finally:
            counts["open"] -= 1
        return sock

    async def count(request: web.Request) -> web.Response:
        return web.json_response(counts)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/v1/login", login)
        app.router.add_get("/api/v1/ws", ws)
        app.router.add_get("/count", count)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        print("ready", flush=True)
        await asyncio.sleep(3600)  # the bench kills us when done

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def server_count(port: int) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=10) as resp:
        return dict(json.loads(resp.read()))


# --- generator 1: vigie's TabletUser ---------------------------------------------------------
def run_vigie(
    port: int, tablets: int, rate: float, hold: float, interval: float, deflate: bool
) -> dict[str, Any]:
    import gevent
    import locust  # noqa: F401  (gevent monkey-patching first)
    from locust.env import Environment

    from simulator import settings as fleet
    from simulator.run.tally import Tally
    from simulator.tablet import TabletUser

    fleet.configure(
        fleet.FleetSettings(
            target=f"http://127.0.0.1:{port}",
            heartbeat_interval_s=interval,
            predownload=False,
            permessage_deflate=deflate,
        ),
        iter([fleet.TabletIdentity(f"BENCH-{i:05d}", "BENCH", "code", 1) for i in range(tablets)]),
    )
    env = Environment(user_classes=[TabletUser])
    runner = env.create_local_runner()
    # As in a run: the process's tally, drained as often as a worker reports (it also
    # moves the long-lived tablets out of the collector's sight: gc.freeze).
    tally = Tally()
    tally.install(env.events, report_to_master=False)

    def drain() -> None:
        while True:
            gevent.sleep(3.0)
            tally.drain()

    drainer = gevent.spawn(drain)
    cpu0 = time.process_time()
    t0 = time.monotonic()
    runner.start(tablets, spawn_rate=rate)
    ramp_end = t0 + tablets / rate + 5
    while time.monotonic() < ramp_end and fleet.FleetCounters.sockets_open < tablets:
        gevent.sleep(0.5)
    t_0, steady_hb0 = os.times(), _hb(env)
    gevent.sleep(hold)
    t_1, steady_hb = os.times(), _hb(env) - steady_hb0
    steady_user, steady_sys = t_1.user - t_0.user, t_1.system - t_0.system
    peak = fleet.FleetCounters.sockets_peak
    runner.quit()
    drainer.kill(block=False)
    deadline = time.monotonic() + 60
    while fleet.FleetCounters.sockets_open > 0 and time.monotonic() < deadline:
        gevent.sleep(0.2)
    cpu = time.process_time() - cpu0
    failures = sum(e.num_failures for e in env.stats.entries.values())
    return {
        "cpu_s": cpu,
        "heartbeats": _hb(env),
        "steady_cpu_s": steady_user + steady_sys,
        "steady_user_s": steady_user,
        "steady_sys_s": steady_sys,
        "steady_heartbeats": steady_hb,
        "sockets_peak": peak,
        "sockets_left": fleet.FleetCounters.sockets_open,
        "failures": failures,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_s": time.monotonic() - t0,
    }


def _hb(env: Any) -> int:
    entry = env.stats.entries.get(("heartbeat", "WS"))
    return int(entry.num_requests) if entry else 0


# --- generator 3: the plain Locust baseline --------------------------------------------------
def run_baseline(
    port: int, tablets: int, rate: float, hold: float, interval: float
) -> dict[str, Any]:
    import random

    import gevent
    import locust  # noqa: F401
    import orjson
    import websocket  # websocket-client
    from locust import User, task
    from locust.env import Environment

    class PlainUser(User):
        @task
        def beat(self) -> None:
            ws = websocket.create_connection(f"ws://127.0.0.1:{port}/api/v1/ws")
            gevent.sleep(interval * random.random())
            seq = 0
            try:
                while True:
                    seq += 1
                    t = time.perf_counter()
                    ws.send(
                        orjson.dumps({"type": "hb", "seq": seq, "client_ts": time.time()}).decode()
                    )
                    data = ws.recv()
                    self.environment.events.request.fire(
                        request_type="WS",
                        name="heartbeat",
                        response_time=(time.perf_counter() - t) * 1000,
                        response_length=len(data),
                        exception=None,
                        context={},
                    )
                    gevent.sleep(interval)
            finally:
                ws.close()

    env = Environment(user_classes=[PlainUser])
    runner = env.create_local_runner()
    cpu0 = time.process_time()
    runner.start(tablets, spawn_rate=rate)
    gevent.sleep(tablets / rate + interval + hold)
    runner.quit()
    return {"cpu_s": time.process_time() - cpu0, "heartbeats": _hb(env)}


# --- generator 2: Tsung -----------------------------------------------------------------------
def run_tsung(
    port: int, tablets: int, rate: float, hold: float, interval: float, workdir: Path
) -> dict[str, Any]:
    ramp = max(1, int(tablets / rate + 0.999))
    beats = max(1, int(hold / interval))
    xml = string.Template((HERE / "tsung" / "heartbeat.xml").read_text()).substitute(
        port=port,
        users=tablets,
        maxusers=tablets + 1000,
        rate=max(1, int(rate)),
        ramp=ramp,
        beats=beats,
        interval=max(2, int(interval)),
        max_duration=int(ramp + interval * (beats + 2) + 60),
    )
    cfg = workdir / "tsung.xml"
    cfg.write_text(xml)
    before = server_count(port)["hb"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(
        ["tsung", "-f", str(cfg), "-l", str(workdir / "log"), "start"],
        capture_output=True,
        text=True,
        timeout=ramp + interval * (beats + 2) + 180,
        check=False,
    )
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    hb = server_count(port)["hb"] - before
    return {
        "cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        "heartbeats": hb,
        "rc": proc.returncode,
        "wall_s": time.monotonic() - t0,
        "tail": proc.stdout[-300:] + proc.stderr[-300:],
    }


# --- orchestration --------------------------------------------------------------------------


def _child(
    role: str, args: argparse.Namespace, port: int, tablets: int, timeout: float
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--role",
        role,
        "--port",
        str(port),
        "--tablets",
        str(tablets),
        "--rate",
        str(args.rate),
        "--hold",
        str(args.hold),
        "--interval",
        str(args.interval),
    ] + (["--deflate"] if args.deflate else [])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(
            f"{role} produced no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
        )
    return dict(json.loads(lines[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tablets", type=int, default=12_000)
    ap.add_argument("--rate", type=float, default=1000.0, help="tablets connected per second")
    ap.add_argument("--hold", type=float, default=40.0, help="seconds of steady heartbeats")
    ap.add_argument("--interval", type=float, default=5.0, help="heartbeat interval (s)")
    ap.add_argument(
        "--deflate",
        action="store_true",
        help="tablets and server negotiate permessage-deflate (Tsung: never)",
    )
    ap.add_argument("--baseline", type=int, default=1000, help="plain Locust users (0: skip)")
    ap.add_argument("--no-tsung", action="store_true")
    ap.add_argument("--role", choices=["main", "server", "vigie", "baseline"], default="main")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    if args.role == "server":
        serve(args.port, args.interval, args.deflate)
        return
    if args.role == "vigie":
        print(
            json.dumps(
                run_vigie(
                    args.port, args.tablets, args.rate, args.hold, args.interval, args.deflate
                )
            )
        )
        return
    if args.role == "baseline":
        print(
            json.dumps(run_baseline(args.port, args.tablets, args.rate, args.hold, args.interval))
        )
        return

    if args.tablets + 100 > hard:
        sys.exit(f"raise the fd limit: {args.tablets} tablets need more than {hard} descriptors")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--role",
            "server",
            "--port",
            str(port),
            "--interval",
            str(args.interval),
            *(["--deflate"] if args.deflate else []),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    phase_timeout = args.tablets / args.rate + args.hold + 240
    try:
        assert server.stdout is not None
        server.stdout.readline()
        print(
            f"workload: {args.tablets} tablets, {args.rate:g}/s ramp, hb every {args.interval:g}s, "
            f"{args.hold:g}s hold, deflate={'on' if args.deflate else 'off'}; loaded 2-core machine",
            flush=True,
        )
        v = _child("vigie", args, port, args.tablets, phase_timeout)
        v_us = v["cpu_s"] / max(v["heartbeats"], 1) * 1e6
        v_steady = v["steady_cpu_s"] / max(v["steady_heartbeats"], 1) * 1e6
        # The kernel's share (loopback TCP: the send also delivers to the server's
        # socket) is the floor that no Python change moves.
        v_sys = v["steady_sys_s"] / max(v["steady_heartbeats"], 1) * 1e6
        print(
            f"vigie TabletUser : {v_us:7.1f} us CPU/heartbeat all included "
            f"({v['cpu_s']:.1f}s CPU / {v['heartbeats']} hb, {v['wall_s']:.0f}s wall), "
            f"steady state {v_steady:.1f} us ({v_sys:.1f} us in the kernel); peak sockets {v['sockets_peak']}, "
            f"left open {v['sockets_left']}, failures {v['failures']}, RSS {v['rss_mib']:.0f} MiB",
            flush=True,
        )
        if not args.no_tsung and shutil.which("tsung"):
            with tempfile.TemporaryDirectory(prefix="vigie-tsung-") as tmp:
                t = run_tsung(port, args.tablets, args.rate, args.hold, args.interval, Path(tmp))
            t_us = t["cpu_s"] / max(t["heartbeats"], 1) * 1e6
            print(
                f"Tsung            : {t_us:7.1f} us CPU/heartbeat "
                f"({t['cpu_s']:.1f}s CPU / {t['heartbeats']} hb, {t['wall_s']:.0f}s wall, rc {t['rc']})",
                flush=True,
            )
            if t["heartbeats"] == 0:
                print(t["tail"])
            print(f"ratio vigie/Tsung: {v_us / max(t_us, 1e-9):.2f} (<= 1.00: no worse than Tsung)")
        if args.baseline > 0:
            b = _child("baseline", args, port, args.baseline, phase_timeout)
            b_us = b["cpu_s"] / max(b["heartbeats"], 1) * 1e6
            print(
                f"plain Locust user ({args.baseline} websocket-client users): {b_us:7.1f} us CPU/heartbeat "
                f"({b['heartbeats']} hb); vigie is {b_us / max(v_us, 1e-9):.1f}x cheaper",
                flush=True,
            )
    finally:
        server.kill()
        server.wait(10)


if __name__ == "__main__":
    main()
