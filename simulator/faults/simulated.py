"""Centre outages without nftables: the tablets play them (``mode: simulated``).

The master sends a Locust custom message (:data:`MESSAGE`, ``{"op", "centres"}``); every
process that runs tablets applies it here. While a centre is cut its tablets behave as if
the network had gone: their sockets stop heartbeating and stop reading (nothing is closed,
so no FIN reaches the server), each tablet finds its socket dead by its own stale rule and
then holds it unclosed until the centre comes back; every network call (login, HTTP,
websocket connect) waits for the restore, at most its own timeout, then fails as a timeout.
A reset aborts the centre's sockets with SO_LINGER 0: the server receives a RST.

Differences with nftables (docs/fleet.md): a request already in flight when the cut starts
completes; the server's own close of a lost socket reaches the tablet's kernel.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import gevent.event

MESSAGE = "vigie_fault"
CUT, RESTORE, RESET = "cut", "restore", "reset"

log = logging.getLogger(__name__)


class Player(Protocol):
    """A tablet's socket as the simulated network drives it (:class:`~simulator.tablet.link.TabletLink`)."""

    def net_cut(self) -> None: ...
    def net_restore(self) -> None: ...
    def net_reset(self) -> None: ...


#: centre -> event set at its restore; a centre is cut while it is here (hot path: the
#: tablets test ``if outages and centre in outages``, nothing when no fault runs)
outages: dict[str, gevent.event.Event] = {}
_players: dict[str, set[Player]] = {}
_held: dict[str, list[Any]] = {}


def is_cut(centre: str) -> bool:
    return bool(outages) and centre in outages


def wait_restored(centre: str, timeout: float) -> bool:
    """Block the caller (a tablet greenlet) while the centre is cut, at most ``timeout``;
    True once its network is back."""
    event = outages.get(centre)
    return event is None or event.wait(timeout)


def join(centre: str, player: Player) -> None:
    """A tablet of a centre that a simulated fault targets opened its socket."""
    _players.setdefault(centre, set()).add(player)


def leave(centre: str, player: Player) -> None:
    players = _players.get(centre)
    if players is not None:
        players.discard(player)


def hold(centre: str, sock: Any) -> None:
    """Keep a socket given up during a cut open (closing it would send a FIN that the
    real network would have lost) until the centre comes back."""
    _held.setdefault(centre, []).append(sock)


def apply(op: str, centres: Iterable[str]) -> None:
    for centre in centres:
        players = list(_players.get(centre, ()))
        if op == CUT:
            if centre in outages:
                continue
            outages[centre] = gevent.event.Event()
            for p in players:
                p.net_cut()
        elif op == RESTORE:
            event = outages.pop(centre, None)
            for sock in _held.pop(centre, []):
                with contextlib.suppress(OSError):
                    sock.close()  # its FIN now, like a retransmitted one once the link is back
            for p in players:
                p.net_restore()
            if event is not None:
                event.set()
        elif op == RESET:
            for p in players:
                p.net_reset()
        else:
            log.warning("vigie: unknown network fault operation %r", op)


def on_message(environment: Any = None, msg: Any = None, **_: Any) -> None:
    """The Locust custom message handler (workers, and a local runner)."""
    data = getattr(msg, "data", None) or {}
    apply(str(data.get("op", "")), [str(c) for c in data.get("centres", ())])


def install(runner: Any) -> None:
    """Register the handler on a runner that runs tablets (idempotent)."""
    if MESSAGE not in getattr(runner, "custom_messages", {}):
        runner.register_message(MESSAGE, on_message)


def clear() -> None:
    """Forget every cut and player (tests; a process that ends)."""
    apply(RESTORE, list(outages))
    _players.clear()


class SimulatedNetwork:
    """The simulated mode of :class:`~.network.CentreNetwork`, on the master side."""

    mode = "simulated"

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self._cut: set[str] = set()
        self._open = True

    def _send(self, op: str, centres: Sequence[str]) -> None:
        self.runner.send_message(MESSAGE, {"op": op, "centres": list(centres)})

    def cut(self, centres: Sequence[str]) -> None:
        self._cut.update(centres)
        self._send(CUT, centres)

    def restore(self, centres: Sequence[str]) -> None:
        self._cut.difference_update(centres)
        self._send(RESTORE, centres)

    def reset(self, centres: Sequence[str]) -> None:
        self._send(RESET, centres)

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._cut:
            with contextlib.suppress(Exception):  # workers already gone: nothing to restore
                self.restore(sorted(self._cut))
