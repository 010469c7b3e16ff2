"""Centre outages for real: an nftables table that the run owns drops a centre's range.

The table ``inet vigie_b<B>_p<pid>_t<start>_n<pidns>`` holds one set, ``cut``, and rules
that drop a packet whose source or destination is in that set, and only inside the run's
own ``127.<B>.0.0/16`` (see :mod:`.addresses`). An outage adds the centre's /24 to the set
and its end removes it: packets vanish both ways, nobody sends a FIN or a RST, TCP
retransmits into the void, as when a centre's uplink goes down. The rules sit on the
``input`` hook only: on the loopback every packet passes it, and a drop there is silent
for the sender (a drop on ``output`` can surface as EPERM to the sending socket, which a
real network loss never does).

A reset (a reconnect loop) destroys the server's end of every socket from the centre's
range with ``ss -K`` (the kernel's sock_destroy): the server's socket is dropped and the
tablet receives a real RST.

Safety: the table is removed at :meth:`NftNetwork.close` (the runner's ``finally``, and
``atexit``); a table left by a run that was killed is removed at the next start, when its
owner (pid and start time, in the same pid namespace) is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Sequence

from scenarios.model import Scenario

from .addresses import PROBE_CENTRE, address_range, check_base, run_range

NFT_TIMEOUT_S = 10.0
TABLE_FAMILY = "inet"
TABLE_RE = re.compile(r"^vigie_b(\d+)_p(\d+)_t(\d+)_n(\d+)$")


class NftError(RuntimeError):
    pass


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    try:
        done = subprocess.run(
            list(argv), input=stdin, capture_output=True, text=True, timeout=NFT_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NftError(f"{argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise NftError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def unavailable_reason() -> str | None:
    """Why nftables cannot be used here, or None when it can."""
    if os.geteuid() != 0:
        return "not root (nftables needs CAP_NET_ADMIN)"
    if shutil.which("nft") is None:
        return "nft is not installed (Debian: apt-get install nftables)"
    try:
        _run(["nft", "list", "tables"])
    except NftError as exc:
        return f"nft does not work here: {exc}"
    return None


def list_tables() -> list[str]:
    doc = json.loads(_run(["nft", "-j", "list", "tables", TABLE_FAMILY]) or "{}")
    return [
        item["table"]["name"]
        for item in doc.get("nftables", [])
        if "table" in item and TABLE_RE.match(item["table"]["name"])
    ]


def tables_octets() -> list[int]:
    """The octets of the vigie tables that exist (empty where nft cannot be used)."""
    if unavailable_reason() is not None:
        return []
    return [int(m.group(1)) for name in list_tables() if (m := TABLE_RE.match(name))]


def _start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), None when it does not exist."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 (tiny, read at once)
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[19])


def _pid_namespace() -> int:
    return os.stat("/proc/self/ns/pid").st_ino


def table_name(base: int, pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"vigie_b{check_base(base)}_p{pid}_t{_start_time(pid) or 0}_n{_pid_namespace()}"


def remove_stale_tables() -> list[str]:
    """Delete the tables of dead runs of this pid namespace (a live run's table, or one
    from another namespace whose owner we cannot see, is left alone); their names."""
    removed = []
    ns = _pid_namespace()
    for name in list_tables():
        m = TABLE_RE.match(name)
        if m is None or int(m.group(4)) != ns:
            continue
        if _start_time(int(m.group(2))) == int(m.group(3)):
            continue  # its owner still runs
        with contextlib.suppress(NftError):  # removed meanwhile by another start
            _run(["nft", "delete", "table", TABLE_FAMILY, name])
            removed.append(name)
    return removed


def _ruleset(name: str, base: int) -> str:
    own = run_range(base)
    return f"""
table {TABLE_FAMILY} {name} {{
    comment "vigie run {os.getpid()}: drops its own centres in {own}; removed at its end"
    set cut {{ type ipv4_addr; flags interval; }}
    chain input {{
        type filter hook input priority -10; policy accept;
        ip saddr {own} ip saddr @cut drop
        ip daddr {own} ip daddr @cut drop
    }}
}}
"""


def reset_sockets(ranges: Sequence[str]) -> int:
    """Destroy the sockets whose peer is in ``ranges`` (the server's ends: the tablets get
    a RST); how many."""
    if not ranges:
        return 0
    expr: list[str] = ["("]
    for i, r in enumerate(ranges):
        expr += (["or"] if i else []) + ["dst", r]
    out = _run(["ss", "-K", "-t", "-n", "-H", *expr, ")"])
    return sum(1 for line in out.splitlines() if line.strip())


def probe_reset(base: int) -> str | None:
    """None when ``ss -K`` resets a socket here, else why not (a kernel without
    CONFIG_INET_DIAG_DESTROY, no ss)."""
    if shutil.which("ss") is None:
        return "ss (iproute2) is not installed"
    source = f"127.{base}.{PROBE_CENTRE}.1"
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.bind((source, 0))
        client.settimeout(2.0)
        client.connect(server.getsockname())
        peer, _ = server.accept()
        with peer:
            try:
                reset_sockets([f"{source}/32"])
            except NftError as exc:
                return str(exc)
            try:
                data = client.recv(1)
            except ConnectionResetError:
                return None
            except OSError as exc:
                return f"ss -K did not reset a socket: {exc!r}"
            return f"ss -K did not reset a socket (read {data!r}): no sock_destroy in the kernel"


class NftNetwork:
    """The nftables mode of :class:`~.network.CentreNetwork`."""

    mode = "nftables"

    def __init__(self, scenario: Scenario, base: int) -> None:
        self.scenario = scenario
        self.base = check_base(base)
        self.table = table_name(base)
        self.stale_removed: list[str] = []
        self.reset_unavailable: str | None = None
        self.resets: list[int] = []  # sockets reset by each reset()
        self._cut: set[str] = set()
        self._open = False

    def open(self) -> NftNetwork:
        self.stale_removed = remove_stale_tables()
        _run(["nft", "-f", "-"], _ruleset(self.table, self.base))
        self._open = True
        atexit.register(self.close)
        self.reset_unavailable = probe_reset(self.base)
        return self

    def _ranges(self, centres: Sequence[str]) -> list[str]:
        return [address_range(self.base, self.scenario, c) for c in centres]

    def _elements(self, verb: str, ranges: Sequence[str]) -> None:
        if ranges:
            elements = "{ " + ", ".join(ranges) + " }"
            _run(["nft", verb, "element", TABLE_FAMILY, self.table, "cut", elements])

    def cut(self, centres: Sequence[str]) -> None:
        new = [r for r in self._ranges(centres) if r not in self._cut]
        self._elements("add", new)
        self._cut.update(new)

    def restore(self, centres: Sequence[str]) -> None:
        gone = [r for r in self._ranges(centres) if r in self._cut]
        self._elements("delete", gone)
        self._cut.difference_update(gone)

    def reset(self, centres: Sequence[str]) -> None:
        if self.reset_unavailable is not None:
            from .network import NetworkUnavailable

            raise NetworkUnavailable(f"cannot reset sockets: {self.reset_unavailable}")
        self.resets.append(reset_sockets(self._ranges(centres)))

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        self._cut.clear()
        with contextlib.suppress(NftError):  # already gone: nothing of ours is left
            _run(["nft", "delete", "table", TABLE_FAMILY, self.table])
        atexit.unregister(self.close)
