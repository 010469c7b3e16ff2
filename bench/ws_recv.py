"""What one ``recv`` of a small websocket frame costs, by the size asked for.

    .venv/bin/python bench/ws_recv.py

A tablet's socket reads each ``hb_ack`` (about 90 bytes) with one ``recv(size)``.
CPython allocates ``size`` bytes and then shrinks them to what arrived: above glibc's
mmap threshold (128 KiB) every call maps and unmaps fresh pages, whatever arrived. The
bench sends a heartbeat-sized message over a socket pair and reads it back, for each
size, the sizes interleaved over several rounds so that the machine's load falls on all
of them alike; the first size (262,144, what the tablets asked for before) is the
baseline the others are compared with.
"""

from __future__ import annotations

import argparse
import socket
import time

SIZES = (262_144, 131_072, 65_536, 16_384)


def one(a: socket.socket, b: socket.socket, size: int, calls: int, msg: bytes) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        a.send(msg)
        b.recv(size)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=20_000, help="send+recv per size and round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bytes", type=int, default=90, help="the message's size")
    args = ap.parse_args()
    a, b = socket.socketpair()
    msg = b"x" * args.bytes
    best = {size: float("inf") for size in SIZES}
    for _ in range(args.rounds):
        for size in SIZES:
            best[size] = min(best[size], one(a, b, size, args.calls, msg))
    base = best[SIZES[0]]
    for size in SIZES:
        print(
            f"recv({size:>7,}) of {args.bytes} bytes: {best[size]:6.2f} us per send+recv "
            f"(best of {args.rounds}), {best[size] / base:4.2f}x the baseline recv({SIZES[0]:,})"
        )


if __name__ == "__main__":
    main()
