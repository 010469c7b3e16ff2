"""The centre network faults, as the fault timeline (in the Locust master) drives them.

``open_network(mode, scenario, runner, base)`` gives a :class:`CentreNetwork`:

- ``nftables`` (:mod:`.nft`): real packet loss on the loopback, for the run's own
  addresses only; needs root, ``nft``, and a loopback target (tablets bound to
  their centre's range);
- ``simulated`` (:mod:`.simulated`): the tablets play the outage, told by a Locust
  custom message.

Where nftables cannot be used, :class:`NetworkUnavailable` says why and offers
``mode: simulated``; there is never a silent fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from scenarios.model import Scenario

from . import simulated
from .addresses import address_range, is_loopback
from .nft import NftNetwork, unavailable_reason
from .simulated import SimulatedNetwork

__all__ = ["CentreNetwork", "NetworkUnavailable", "address_range", "open_network"]

MODES = ("nftables", "simulated")


class NetworkUnavailable(RuntimeError):
    """nftables mode cannot run here; ``str()`` says why and what to use instead."""

    def __init__(self, why: str) -> None:
        super().__init__(
            f"centre network faults with nftables are unavailable: {why}; "
            "set `mode: simulated` on the fault to let the tablets play it"
        )
        self.why = why


class CentreNetwork(Protocol):
    mode: str  # "nftables" | "simulated"

    def cut(self, centres: Sequence[str]) -> None:
        """Outage starts: the centres' packets are dropped both ways, no FIN."""
        ...

    def restore(self, centres: Sequence[str]) -> None:
        """Outage ends."""
        ...

    def reset(self, centres: Sequence[str]) -> None:
        """RST every socket of those centres, now."""
        ...

    def close(self) -> None:
        """Remove everything; idempotent."""
        ...


def _target(runner: Any) -> str:
    env = getattr(runner, "environment", None)
    options = getattr(env, "parsed_options", None)
    return str(getattr(options, "target", "") or getattr(env, "host", "") or "")


def open_network(
    mode: str, scenario: Scenario, runner: Any, base: int | None, *, target: str | None = None
) -> CentreNetwork:
    """The run's centre network in ``mode``; ``base`` is the run's octet (the one the
    tablets bind to, None if they do not bind); ``target`` defaults to the runner's.

    Raises :class:`NetworkUnavailable` when nftables cannot be used here.
    """
    if mode == "simulated":
        if type(runner).__name__ == "LocalRunner":
            simulated.install(runner)  # the tablets live in this process
        return SimulatedNetwork(runner)
    if mode != "nftables":
        raise ValueError(f"unknown network fault mode {mode!r} (one of {', '.join(MODES)})")
    host = urlsplit(target if target is not None else _target(runner)).hostname or ""
    if not is_loopback(host):
        raise NetworkUnavailable(f"the target {host or '?'} is not on the loopback")
    if base is None:
        raise NetworkUnavailable("the tablets do not send from their centres' addresses")
    why = unavailable_reason()
    if why is not None:
        raise NetworkUnavailable(why)
    return NftNetwork(scenario, base).open()
