"""The run's address plan on the loopback: each centre's tablets send from their own range.

With a loopback target, the tablets of centre ``k`` (1-based, in the scenario's order) send
from ``127.<B>.<k>.<x>``: ``x`` in 1..253 spread over the tablets by candidate number (a
tablet keeps its address across reconnects, as it keeps its Wi-Fi lease), ``.254`` for the
centre's HTTP pool. ``B`` is the run's octet, leased by the master (:func:`lease_base`) so
that two concurrent runs never share addresses: a rule that drops one run's centre can
never touch another run. ``127.<B>.0.x`` belongs to the run but to no centre (probes).

Binding also lifts the ~28k ephemeral ports per source address: with
``IP_BIND_ADDRESS_NO_PORT`` the port is picked at connect time, per destination.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import ipaddress
import os
import re
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from scenarios.model import Scenario

#: Environment variable that carries the run's octet to the worker processes.
BASE_ENV = "VIGIE_NET_BASE"
MIN_BASE, MAX_BASE = 10, 250
MAX_CENTRES = 255
TABLET_HOSTS = 253  # x in 1..253; .254 is the centre's HTTP pool
HTTP_HOST = 254
PROBE_CENTRE = 0  # 127.B.0.x: the run's, no centre's
#: Linux: bind() keeps the port open until connect() (``IP_BIND_ADDRESS_NO_PORT``).
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
_TRAILING_DIGITS = re.compile(r"(\d+)$")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and IPv4 loopback addresses (the only targets we bind for)."""
    if host == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.version == 4 and addr.is_loopback


def connect_host(host: str) -> str:
    """The address to connect to: ``localhost`` may resolve to ::1 first, which an IPv4
    source cannot reach."""
    return "127.0.0.1" if host == "localhost" else host


def centre_number(centres: Sequence[str], centre: str) -> int:
    """The centre's 1-based index in the scenario's order."""
    k = list(centres).index(centre) + 1
    if k > MAX_CENTRES:
        raise ValueError(f"centre {centre!r} is number {k}: the address plan has {MAX_CENTRES}")
    return k


def check_base(base: int) -> int:
    if not MIN_BASE <= base <= MAX_BASE:
        raise ValueError(f"network base octet {base} outside {MIN_BASE}..{MAX_BASE}")
    return base


def run_range(base: int) -> str:
    """Every address of the run: the rules never match outside it."""
    return f"127.{check_base(base)}.0.0/16"


def address_range(base: int, scenario: Scenario, centre: str) -> str:
    """The centre's source range, e.g. ``127.10.3.0/24``."""
    return f"127.{check_base(base)}.{centre_number(list(scenario.centres), centre)}.0/24"


@functools.lru_cache(maxsize=65536)
def _address(base: int, k: int, x: int) -> str:
    # one string per address, shared by every tablet that sends from it
    return f"127.{base}.{k}.{x}"


def tablet_address(base: int, k: int, candidate_id: str) -> str:
    m = _TRAILING_DIGITS.search(candidate_id)
    n = int(m.group(1)) if m else sum(candidate_id.encode())
    return _address(base, k, 1 + (n - 1) % TABLET_HOSTS)


def http_address(base: int, k: int) -> str:
    return _address(base, k, HTTP_HOST)


def bind_source(sock: Any, source: str | None) -> None:
    """Bind a (gevent or stdlib) TCP socket to ``source`` before it connects; no-op for None."""
    if source is None:
        return
    with contextlib.suppress(OSError):  # an old kernel: bind takes its port at once
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    sock.bind((source, 0))


# --- the run's octet -------------------------------------------------------------------
def _lock_dir() -> Path:
    run_lock = Path("/run/lock")
    base = run_lock if os.access(run_lock, os.W_OK) else Path(tempfile.gettempdir())
    path = base / "vigie-net"
    path.mkdir(mode=0o777, exist_ok=True)
    return path


class BaseLease:
    """The run's octet, held with an advisory lock until :meth:`release` (the kernel drops
    the lock when the process dies, so a killed run never keeps its octet)."""

    def __init__(self, base: int, handle: IO[bytes]) -> None:
        self.base = base
        self._handle: IO[bytes] | None = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> BaseLease:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


def lease_base(taken: Sequence[int] | None = None) -> BaseLease:
    """Lease a free octet: not locked by a live run, and not in ``taken`` (by default the
    octets of the ``vigie_*`` nftables tables that exist: a run in another container, with
    its own lock directory, may share this network namespace)."""
    if taken is None:
        from .nft import tables_octets

        taken = tables_octets()
    span = MAX_BASE - MIN_BASE + 1
    start = os.getpid() % span
    directory = _lock_dir()
    for i in range(span):
        base = MIN_BASE + (start + i) % span
        if base in taken:
            continue
        handle = (directory / f"{base}.lock").open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        return BaseLease(base, handle)
    raise RuntimeError(f"no free network octet in {MIN_BASE}..{MAX_BASE}: too many runs")
