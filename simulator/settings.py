"""The contract between the fleet runner (scenarios, shape, certify) and the tablets.

The runner builds one :class:`FleetSettings` from the scenario and installs it with
:func:`configure` in every Locust process (master and workers) before users spawn;
each :class:`~simulator.tablet.TabletUser` reads it with :func:`current` and takes
its identity from :func:`next_identity`. Failures are reported to Locust with a
:class:`TabletFailure` whose ``kind`` is one of :class:`FailureKind`, so that the
certifier can name the cause of a broken SLO without parsing messages.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum


class FailureKind(StrEnum):
    CONNECTION_CAP = "connection_cap"  # 503 connection_cap on the websocket upgrade
    REFUSED = "refused"  # TCP connect refused / reset
    TIMEOUT = "timeout"
    HTTP_5XX = "http_5xx"  # other 5xx, injected faults included
    HTTP_4XX = "http_4xx"  # a 4xx the tablet did not expect
    PROTOCOL = "protocol"  # bad frame, unexpected close code
    DISCONNECTED = "disconnected"  # an open socket dropped


class TabletFailure(Exception):
    """A failed tablet operation; ``kind`` says why, ``detail`` is for humans."""

    def __init__(self, kind: FailureKind, detail: str = "") -> None:
        super().__init__(f"{kind.value}: {detail}" if detail else kind.value)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TabletIdentity:
    candidate_id: str
    centre: str
    access_code: str
    wave: int  # 1-based wave that connects this tablet


@dataclass(frozen=True, slots=True)
class ThinkTime:
    """Seconds between two answers in real exam time, before compression (lognormal)."""

    median_s: float = 90.0
    sigma: float = 0.6
    min_s: float = 5.0
    max_s: float = 600.0


@dataclass(frozen=True, slots=True)
class Cohort:
    """Who answers from the keys, and how well (scenarios.model.Cohort); by default
    nobody: every answer is a random valid one."""

    skilled_share: float = 0.0
    skill_mean: float = 0.6
    skill_sd: float = 0.15


@dataclass(frozen=True, slots=True)
class FleetSettings:
    target: str  # base URL of the exam server, e.g. http://127.0.0.1:8080
    heartbeat_interval_s: float = 5.0
    time_compression: float = 1.0  # think times are divided by this
    think_time: ThinkTime = field(default_factory=ThinkTime)
    permessage_deflate: bool = True  # real tablet WebViews negotiate it
    predownload: bool = True  # fetch the encrypted package before the launch
    #: one copy of each byte-identical package per process, opened once per key
    #: (simulator.tablet.packages); False: one per tablet, to measure what it saves
    share_packages: bool = True
    reconnect_base_s: float = 1.0  # backoff: base * 2**attempt, capped, with full jitter
    reconnect_max_s: float = 30.0
    request_timeout_s: float = 30.0
    answer_fraction: float = 1.0  # share of the unit's questions a tablet answers
    cohort: Cohort = field(default_factory=Cohort)
    seed: int = 2022
    #: the run's octet: with a loopback target each centre's tablets send from
    #: 127.<net_base>.<k>.x (simulator.faults.addresses); None: no binding
    net_base: int | None = None
    centres: tuple[tuple[str, int], ...] = ()  # (code, candidates), the scenario's order
    #: centres that a ``mode: simulated`` network fault targets: their sockets register
    #: with simulator.faults.simulated (nothing for the others)
    simulated_centres: frozenset[str] = frozenset()


# --- process-wide state, installed by the runner --------------------------------------
_settings: FleetSettings | None = None
_identities: Iterator[TabletIdentity] = iter(())
_lock = threading.Lock()


class FleetCounters:
    """Per-process counters the runner reports to the master (Locust's user count is
    not the socket count: a tablet between two reconnects holds no socket)."""

    sockets_open = 0
    sockets_peak = 0

    @classmethod
    def socket_opened(cls) -> None:
        cls.sockets_open += 1
        if cls.sockets_open > cls.sockets_peak:
            cls.sockets_peak = cls.sockets_open

    @classmethod
    def socket_closed(cls) -> None:
        cls.sockets_open -= 1


def configure(
    settings: FleetSettings,
    identities: Iterator[TabletIdentity] | Callable[[], Iterator[TabletIdentity]],
) -> None:
    """Install the settings and the identity source for this process."""
    global _settings, _identities
    _settings = settings
    _identities = identities() if callable(identities) else identities


def current() -> FleetSettings:
    if _settings is None:
        raise RuntimeError(
            "fleet settings not configured: run through vigie load/certify or the locustfile"
        )
    return _settings


def next_identity() -> TabletIdentity | None:
    """The next tablet identity for this process, or None when the roster is exhausted."""
    with _lock:
        return next(_identities, None)


def sequential_identities(identities: list[TabletIdentity]) -> Iterator[TabletIdentity]:
    return itertools.chain(identities)
