"""What the load did over time: each wave's tallies, and the sample taken about once a second.

Stdlib only, like the whole record: imported by gevent-patched Locust processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.record.ops import OpTally


@dataclass
class WaveRecord:
    number: int  # 1-based
    name: str
    centres: list[str]
    planned_tablets: int  # tablets connecting in this wave
    started_at: float  # seconds since run start
    ended_at: float | None = None
    ops: dict[str, OpTally] = field(default_factory=dict)

    def tally(self, op: str) -> OpTally:
        """The tally for ``op``, created on first use."""
        found = self.ops.get(op)
        if found is None:
            found = self.ops[op] = OpTally()
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "centres": list(self.centres),
            "planned_tablets": self.planned_tablets,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "ops": {name: tally.to_json() for name, tally in self.ops.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WaveRecord:
        return cls(
            number=int(data["number"]),
            name=str(data.get("name", f"wave {data['number']}")),
            centres=[str(c) for c in data.get("centres", [])],
            planned_tablets=int(data.get("planned_tablets", 0)),
            started_at=float(data.get("started_at", 0.0)),
            ended_at=opt_float(data.get("ended_at")),
            ops={str(k): OpTally.from_json(v) for k, v in data.get("ops", {}).items()},
        )


@dataclass
class Sample:
    """Taken by the runner on the master about once a second."""

    t: float  # seconds since run start
    wave: int  # current wave, 0 before the first
    users: int  # Locust users
    sockets_open: int  # sum over workers of FleetCounters.sockets_open
    generator_cpu: float  # max over generator processes, fraction of one core
    requests: dict[str, int] = field(default_factory=dict)  # cumulative per op name
    failures: dict[str, int] = field(default_factory=dict)  # cumulative per FailureKind
    hb_p99_ms: float | None = None  # heartbeat RTT p99 over the last ~10 s
    # Scraped from the target's /metrics: "websockets_open" (sum over centres),
    # "connection_cap", "event_loop_lag_p99_s", "http_5xx_total", "ws_rejections_cap_total"...
    server: dict[str, float] = field(default_factory=dict)
    # Optional (None: not measured). They let the certifier tell a platform that slowed
    # down from a test machine that did: system-wide CPU use of the generator's machine
    # (0..1 of all its cores, psutil.cpu_percent() / 100), and the worst event-loop lag
    # of the generator processes (ms, over the last ~10 s).
    host_cpu: float | None = None
    generator_lag_ms: float | None = None
    # The p99 of the calls' waits for a free pooled connection in the generator (ms, over
    # the last ~10 s): time the generator held its own calls back (never the server's).
    http_wait_p99_ms: float | None = None
    # Resident memory of all the generator processes together (MiB): what a bigger fleet
    # would need from the test machine. None: not measured (records from older runners).
    generator_rss_mb: float | None = None
    # The answers' response time p99 as the tablets measured it (ms, over the last ~10 s,
    # pool waits left out), set once the window holds enough answers to say something.
    answer_p99_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "wave": self.wave,
            "users": self.users,
            "sockets_open": self.sockets_open,
            "generator_cpu": self.generator_cpu,
            "requests": dict(self.requests),
            "failures": dict(self.failures),
            "hb_p99_ms": self.hb_p99_ms,
            "server": dict(self.server),
            "host_cpu": self.host_cpu,
            "generator_lag_ms": self.generator_lag_ms,
            "http_wait_p99_ms": self.http_wait_p99_ms,
            "generator_rss_mb": self.generator_rss_mb,
            "answer_p99_ms": self.answer_p99_ms,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sample:
        return cls(
            t=float(data["t"]),
            wave=int(data.get("wave", 0)),
            users=int(data.get("users", 0)),
            sockets_open=int(data.get("sockets_open", 0)),
            generator_cpu=float(data.get("generator_cpu", 0.0)),
            requests={str(k): int(v) for k, v in data.get("requests", {}).items()},
            failures={str(k): int(v) for k, v in data.get("failures", {}).items()},
            hb_p99_ms=opt_float(data.get("hb_p99_ms")),
            # A figure the scrape could not read is absent, not zero.
            server={str(k): float(v) for k, v in data.get("server", {}).items() if v is not None},
            host_cpu=opt_float(data.get("host_cpu")),
            generator_lag_ms=opt_float(data.get("generator_lag_ms")),
            http_wait_p99_ms=opt_float(data.get("http_wait_p99_ms")),
            generator_rss_mb=opt_float(data.get("generator_rss_mb")),
            answer_p99_ms=opt_float(data.get("answer_p99_ms")),
        )


def opt_float(value: Any) -> float | None:
    """A figure the JSON may hold as null (not measured): stays None, never 0."""
    return None if value is None else float(value)
