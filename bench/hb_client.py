"""The heartbeat bench's tablets: one lean client process, so the figure is the server's.

``bench/server_heartbeat.py`` starts several of these. Each holds its share of the fleet on
bare asyncio protocols (the HTTP upgrade, RFC 6455 frames and RFC 7692 deflate by hand, no
client library): a heartbeat costs the client a few microseconds, far less than the server
under test spends on it. Every tablet beats from the moment its socket opens, at a random
phase, so the fleet is staggered from the first connection and never beats in step. The
garbage collector is off once the sockets are open (nothing here makes cycles), and the
process measures its own event-loop lag, printed next to the server's figures: a client that
lags measures itself.

    python bench/hb_client.py --port P --paths FILE --start T0 --window A B [--deflate]

It prints one JSON line: counts, the round trips acknowledged inside the window, the lag.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import random
import resource
import sys
import time
import zlib
from pathlib import Path
from typing import cast

LAG_PROBE_S = 0.02
CONNECT_TIMEOUT_S = 30.0
HB_TEMPLATE = (
    '{"type":"hb","seq":%d,"unit_id":null,"position":0,"answered":0,'
    '"battery":80,"network":"wifi","client_ts":%.3f}'
)
DEFLATE_TAIL = b"\x00\x00\xff\xff"


class Fleet:
    """What the process's tablets saw, and the window the parent measures the server in."""

    def __init__(self, interval: float, window: tuple[float, float]) -> None:
        self.interval = interval
        self.window = window
        self.rtts: list[float] = []
        self.connected = 0
        self.failed = 0
        self.closed = 0
        self.sent_in_window = 0
        self.errors: dict[str, int] = {}

    def fail(self, why: str) -> None:
        self.failed += 1
        self.errors[why] = self.errors.get(why, 0) + 1


class Tablet(asyncio.Protocol):
    """One websocket: upgrade, then a heartbeat every interval and its ack's round trip."""

    def __init__(self, fleet: Fleet, host: str, path: str, deflate: bool) -> None:
        self.fleet = fleet
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            + (
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                if deflate
                else ""
            )
            + "\r\n"
        ).encode()
        self.offered = deflate
        self.deflate = False
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.opened: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.seq = 0
        self.sent_at: dict[int, float] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.inflater: object = None
        self.deflater: object = None

    # --- asyncio ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if not self.opened.done():
            self.opened.set_result(False)
        elif self.upgraded:
            self.fleet.closed += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if not sep:
                return
            status = head.split(b" ", 2)[1] if b" " in head else b""
            if status != b"101":
                self.opened.set_result(False)
                assert self.transport is not None
                self.transport.close()
                return
            self.deflate = self.offered and b"permessage-deflate" in head.lower()
            if self.deflate:
                self.inflater = zlib.decompressobj(-15)
                # The smallest window and memory: the client's cost is not the bench's.
                self.deflater = zlib.compressobj(1, zlib.DEFLATED, -9, 1)
            self.upgraded = True
            self.buf = rest
            self.opened.set_result(True)
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(random.uniform(0, self.fleet.interval), self.beat)
        self._frames()

    # --- frames ----------------------------------------------------------------------
    def _frames(self) -> None:
        buf = self.buf
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n = b1 & 0x7F
            at = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, at = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + n:
                break
            payload, buf = buf[at : at + n], buf[at + n :]
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self._send(0xA, payload, compress=False)
            elif opcode == 0x8:
                assert self.transport is not None
                self.transport.close()
            elif opcode in (0x1, 0x2):
                if b0 & 0x40:
                    payload = self.inflater.decompress(payload + DEFLATE_TAIL)  # type: ignore[attr-defined]
                self._message(payload)
        self.buf = buf

    def _message(self, payload: bytes) -> None:
        if b'"hb_ack"' not in payload:
            return  # welcome, pushes
        i = payload.find(b'"seq":')
        if i < 0:
            return
        j = i + 6
        k = j
        while k < len(payload) and 48 <= payload[k] <= 57:
            k += 1
        sent = self.sent_at.pop(int(payload[j:k]), None) if k > j else None
        if sent is not None:
            now = time.time()
            lo, hi = self.fleet.window
            if lo <= sent <= hi:
                self.fleet.rtts.append((now - sent) * 1000)

    def _send(self, opcode: int, payload: bytes, compress: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        rsv = 0
        if compress and self.deflate:
            d = self.deflater
            payload = (d.compress(payload) + d.flush(zlib.Z_SYNC_FLUSH))[:-4]  # type: ignore[attr-defined]
            rsv = 0x40
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | rsv | opcode, 0x80 | n))
        else:
            head = bytes((0x80 | rsv | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        key = os.urandom(4)
        masked = (
            int.from_bytes(payload, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")
        ).to_bytes(n, "big")
        self.transport.write(head + key + masked)

    def beat(self) -> None:
        fleet = self.fleet
        self.seq += 1
        now = time.time()
        if len(self.sent_at) > 16:
            self.sent_at.clear()  # acks that never came: not a leak over a long hold
        self.sent_at[self.seq] = now
        if fleet.window[0] <= now <= fleet.window[1]:
            fleet.sent_in_window += 1
        self._send(0x1, (HB_TEMPLATE % (self.seq, now)).encode(), compress=True)
        self.timer = asyncio.get_running_loop().call_later(fleet.interval, self.beat)


async def lag_probe(until: float, window: tuple[float, float], out: list[float]) -> None:
    """The client's own event-loop lag: how late a 20 ms sleep wakes, inside the window."""
    while time.time() < until:
        t0 = time.perf_counter()
        await asyncio.sleep(LAG_PROBE_S)
        if window[0] <= time.time() <= window[1]:
            out.append((time.perf_counter() - t0 - LAG_PROBE_S) * 1000)


async def run(args: argparse.Namespace, paths: list[str]) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    window = (args.window[0], args.window[1])
    fleet = Fleet(args.interval, window)
    lags: list[float] = []
    probe = asyncio.create_task(lag_probe(window[1], window, lags))
    await asyncio.sleep(max(0.0, args.start - time.time()))
    host = f"127.0.0.1:{args.port}"
    gap = 1.0 / args.rate
    t0 = time.monotonic()
    tablets: list[Tablet] = []

    async def open_one(path: str) -> None:
        try:
            _, proto = await asyncio.wait_for(
                loop.create_connection(
                    lambda: Tablet(fleet, host, path, args.deflate), "127.0.0.1", args.port
                ),
                CONNECT_TIMEOUT_S,
            )
            ok = await asyncio.wait_for(proto.opened, CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            fleet.fail(type(exc).__name__)
            return
        if ok:
            fleet.connected += 1
            tablets.append(proto)
        else:
            fleet.fail("refused")

    pending = []
    for i, path in enumerate(paths):
        # A steady arrival rate, as tablets switched on in a room: no connect storm.
        await asyncio.sleep(max(0.0, t0 + i * gap - time.monotonic()))
        pending.append(asyncio.create_task(open_one(path)))
    await asyncio.gather(*pending)
    # Nothing below makes reference cycles: no collection inside the measured window.
    gc.collect()
    gc.freeze()
    gc.disable()
    await asyncio.sleep(max(0.0, window[0] - time.time()))
    cpu0, t_0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    await probe
    cpu1, t_1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    for t in tablets:
        if t.transport is not None:
            t.transport.close()
    lags.sort()
    cpu_s = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return {
        "connected": fleet.connected,
        "failed": fleet.failed,
        "errors": fleet.errors,
        "closed_by_server": fleet.closed,
        "sent_in_window": fleet.sent_in_window,
        "rtts": fleet.rtts,
        "lag_p99_ms": lags[int(0.99 * (len(lags) - 1))] if lags else None,
        "lag_max_ms": lags[-1] if lags else None,
        "cpu_share": cpu_s / max(1e-9, t_1 - t_0),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--paths", required=True, help="file: one websocket path per tablet")
    p.add_argument("--start", type=float, required=True, help="unix time of the first connect")
    p.add_argument("--rate", type=float, default=200.0, help="connections per second")
    p.add_argument("--window", type=float, nargs=2, required=True, help="unix times A B")
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--deflate", action="store_true")
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        pass
    paths = Path(args.paths).read_text().split()
    print(json.dumps(asyncio.run(run(args, paths))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
