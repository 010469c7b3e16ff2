"""The run record: what the fleet runner saw during a run, and all the certifier reads.

The runner (``simulator.runner``) fills one :class:`RunRecord` on the Locust master:
per-wave :class:`OpTally` objects from Locust request events, and a :class:`Sample`
about once a second (users, open sockets, generator CPU, the target's metrics). The
certifier (``simulator.certify``) turns it into a verdict and a report, possibly
later and elsewhere: the record round-trips through JSON (``to_json``/``from_json``,
``save``/``load``) so a run can be judged again without replaying it.

Stdlib only: this module is imported by gevent-patched Locust processes.
Names may grow (additive), never change: ``from_json`` ignores keys it does not know,
so a record written by a newer runner still loads.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Operation names the tablets report (Locust request ``name``s).
OP_LOGIN = "login"
OP_PACKAGE = "package"
OP_KEY = "key"
OP_QUESTION = "question"
OP_ANSWER = "answer"
OP_WS_CONNECT = "ws_connect"
OP_HEARTBEAT = "heartbeat"
OP_FINISH = "finish"
OP_NAMES: tuple[str, ...] = (
    OP_LOGIN,
    OP_PACKAGE,
    OP_KEY,
    OP_QUESTION,
    OP_ANSWER,
    OP_WS_CONNECT,
    OP_HEARTBEAT,
    OP_FINISH,
)

RECORD_FORMAT = 1


def bucket_ms(ms: float) -> int:
    """Locust's rounding (~2 significant digits): keeps histograms small enough to ship
    from workers to the master every few seconds, and lets us merge Locust's own dicts."""
    if ms < 100:
        return round(ms)
    if ms < 1000:
        return int(round(ms, -1))
    if ms < 10000:
        return int(round(ms, -2))
    return int(round(ms, -3))


@dataclass
class LatencyHistogram:
    """Latencies in Locust's representation: rounded milliseconds -> count."""

    buckets: dict[int, int] = field(default_factory=dict)

    def add(self, ms: float, n: int = 1) -> None:
        key = bucket_ms(ms)
        self.buckets[key] = self.buckets.get(key, 0) + n

    def merge(self, other: LatencyHistogram | Mapping[int, int]) -> None:
        """Add another histogram (or a Locust ``response_times`` dict) into this one."""
        items = other.buckets if isinstance(other, LatencyHistogram) else other
        for key, n in items.items():
            self.buckets[key] = self.buckets.get(key, 0) + n

    def count(self) -> int:
        return sum(self.buckets.values())

    def percentile(self, q: float) -> float | None:
        """The latency (ms) that a fraction ``q`` (0..1) of the operations finished
        within, as Locust computes it; None when there is nothing to rank."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"percentile q must be in 0..1, got {q}")
        total = self.count()
        if total == 0:
            return None
        # Same walk as locust.stats.calculate_response_time_percentile, so our figures
        # match the ones people read in Locust's UI for the same data.
        within = int(total * q)
        seen = 0
        for key in sorted(self.buckets, reverse=True):
            seen += self.buckets[key]
            if total - seen <= within:
                return float(key)
        return float(min(self.buckets))

    def max(self) -> float | None:
        return float(max(self.buckets)) if self.buckets else None

    def to_json(self) -> dict[str, int]:
        return {str(k): n for k, n in sorted(self.buckets.items())}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LatencyHistogram:
        return cls({int(k): int(n) for k, n in data.items()})


@dataclass
class OpTally:
    """One operation name within one wave.

    ``count`` is every attempt, failed ones included (like Locust's ``num_requests``);
    ``failures`` counts the failed ones by ``simulator.settings.FailureKind`` value;
    ``latency`` holds successful operations only, so that fast refusals (a 503 at the
    connection cap answers in a millisecond) cannot make a latency SLO look better.
    """

    count: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)

    def record(self, ms: float | None, failure: str | None = None) -> None:
        """One attempt: a success with its latency, or a failure of kind ``failure``."""
        self.count += 1
        if failure is not None:
            self.failures[failure] = self.failures.get(failure, 0) + 1
        elif ms is not None:
            self.latency.add(ms)

    def failed(self) -> int:
        return sum(self.failures.values())

    def succeeded(self) -> int:
        return self.count - self.failed()

    def merge(self, other: OpTally) -> None:
        self.count += other.count
        for kind, n in other.failures.items():
            self.failures[kind] = self.failures.get(kind, 0) + n
        self.latency.merge(other.latency)

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "failures": dict(self.failures),
            "latency": self.latency.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OpTally:
        return cls(
            count=int(data.get("count", 0)),
            failures={str(k): int(v) for k, v in data.get("failures", {}).items()},
            latency=LatencyHistogram.from_json(data.get("latency", {})),
        )


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
            ended_at=_opt_float(data.get("ended_at")),
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
            hb_p99_ms=_opt_float(data.get("hb_p99_ms")),
            # A figure the scrape could not read is absent, not zero.
            server={str(k): float(v) for k, v in data.get("server", {}).items() if v is not None},
            host_cpu=_opt_float(data.get("host_cpu")),
            generator_lag_ms=_opt_float(data.get("generator_lag_ms")),
            http_wait_p99_ms=_opt_float(data.get("http_wait_p99_ms")),
            generator_rss_mb=_opt_float(data.get("generator_rss_mb")),
            answer_p99_ms=_opt_float(data.get("answer_p99_ms")),
        )


@dataclass
class FaultRun:
    """One fault of the scenario as the run applied it, and how the platform came through.

    ``at_s``/``duration_s`` are as declared; ``started_at``/``ended_at`` (run seconds) as
    applied. ``applied`` False means it was not injected at all (``how`` says why), and
    the report says so. The measured fields stay None when nothing could measure them.
    """

    kind: str
    centres: list[str]
    at_s: float
    duration_s: float
    applied: bool = False
    how: str = ""  # "nftables", "simulated", "operator endpoint", "kill -9", or why not
    started_at: float | None = None
    ended_at: float | None = None
    detection_s_max: float | None = None
    recovery_s_max: float | None = None
    affected_tablets: int | None = None
    detected_after_s: float | None = None  # first late/lost in the server's supervision
    recovered_after_s: float | None = None  # fault end -> 99% of the affected back in progress
    answers_queued_offline: int | None = None
    answers_lost: int | None = None
    notes: list[str] = field(default_factory=list)
    # Operations in the fault's window (its span and the recovery after it): judged by
    # recovery, never against the waves' SLOs (a 90 s outage is expected to time out).
    ops: dict[str, OpTally] = field(default_factory=dict)
    window_end_s: float | None = None  # run time the window closes (None: no window)
    # [run time, affected tablets late or lost beyond those before the fault], per poll
    series: list[list[float]] = field(default_factory=list)

    def in_window(self, t: float) -> bool:
        """Whether run time ``t`` falls in the window of this fault, once applied."""
        return (
            self.window_end_s is not None
            and self.started_at is not None
            and self.at_s <= t < self.window_end_s
        )

    def to_json(self) -> dict[str, Any]:
        out = {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}
        out["ops"] = {name: tally.to_json() for name, tally in self.ops.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRun:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "ops"}
        ops = {str(k): OpTally.from_json(v) for k, v in data.get("ops", {}).items()}
        return cls(**known, ops=ops)


@dataclass
class Reconciliation:
    """The tablets' ledger of acknowledged answers against what the server holds.

    ``acked``: answers the server acknowledged (the last per question); ``stored``: of
    those, found on the server with the same value; ``lost``: acknowledged, not stored;
    ``mismatched``: stored with another value than the last acknowledged; ``pending``:
    given offline, never acknowledged by the end. ``examples``: a few lost/mismatched.
    ``losses``: (centre, unix second acknowledged) of each lost or mismatched answer, for
    putting them next to the run's faults; not kept in the record (the counts are).
    """

    acked: int = 0
    stored: int = 0
    lost: int = 0
    mismatched: int = 0
    pending: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None  # why it could not be done (export unreachable...)
    losses: list[tuple[str, float]] = field(default_factory=list, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.problem is None and self.lost == 0 and self.mismatched == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "acked": self.acked,
            "stored": self.stored,
            "lost": self.lost,
            "mismatched": self.mismatched,
            "pending": self.pending,
            "examples": list(self.examples),
            "problem": self.problem,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reconciliation:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class RealCentreRun:
    """A centre left to real tablets (``real_tablets``), as the server's jury API saw it.

    Reported apart, never judged into the capacity verdict: the fleet does not control
    these tablets. ``problem`` says why the figures could not be read (None: they were).
    """

    centre: str
    candidates: int  # in the roster
    expected: int  # real tablets the scenario expects
    logged_in: int = 0  # candidates who logged in during the run
    connected_at_launch: int = 0  # socket open at the national launch
    connected_at_end: int = 0  # socket open when the run ended
    reconnects: int = 0  # disconnections during the unit that came back
    disconnections: int = 0  # episodes: every disconnection during the unit
    disconnected_s: float = 0.0  # summed over the candidates, during the unit
    answers_stored: int = 0  # answer records in the server's export (every change)
    questions_answered: int = 0  # (candidate, question) pairs with a stored answer
    finished: int = 0  # handed in (a finish)
    # candidates seen late / lost / unfinished (polled during the unit, and at the end)
    incidents: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RealCentreRun:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class RunRecord:
    scenario: str
    scenario_path: str
    target: str
    started_at: float  # unix seconds
    ended_at: float | None = None  # unix seconds
    # As declared in the scenario: heartbeat_p99_ms, answer_p99_ms, failure_ratio_max,
    # connection_success_min, ...
    slos: dict[str, float] = field(default_factory=dict)
    server_knobs: dict[str, object] = field(default_factory=dict)
    waves: list[WaveRecord] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Why no wave was started: what the target check found wrong (empty: the run ran).
    target_problems: list[str] = field(default_factory=list)
    faults: list[FaultRun] = field(default_factory=list)
    reconciliation: Reconciliation | None = None  # None: not done in this run
    # End-of-run checks of the server's state (extra time...): name -> findings.
    checks: dict[str, Any] = field(default_factory=dict)
    # The centres left to real tablets (mixed fleets): reported, never judged.
    real_tablets: list[RealCentreRun] = field(default_factory=list)

    def wave(self, number: int) -> WaveRecord:
        for wave in self.waves:
            if wave.number == number:
                return wave
        raise KeyError(f"no wave {number} in this run (waves: {[w.number for w in self.waves]})")

    def planned_tablets(self) -> int:
        return sum(w.planned_tablets for w in self.waves)

    def max_sockets_open(self) -> int:
        return max((s.sockets_open for s in self.samples), default=0)

    def duration_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "scenario": self.scenario,
            "scenario_path": self.scenario_path,
            "target": self.target,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "slos": dict(self.slos),
            "server_knobs": dict(self.server_knobs),
            "waves": [w.to_json() for w in self.waves],
            "samples": [s.to_json() for s in self.samples],
            "notes": list(self.notes),
            "target_problems": list(self.target_problems),
            "faults": [f.to_json() for f in self.faults],
            "reconciliation": None
            if self.reconciliation is None
            else self.reconciliation.to_json(),
            "checks": dict(self.checks),
            "real_tablets": [c.to_json() for c in self.real_tablets],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        try:
            return cls(
                scenario=str(data["scenario"]),
                scenario_path=str(data.get("scenario_path", "")),
                target=str(data.get("target", "")),
                started_at=float(data["started_at"]),
                ended_at=_opt_float(data.get("ended_at")),
                slos={str(k): float(v) for k, v in data.get("slos", {}).items()},
                server_knobs=dict(data.get("server_knobs", {})),
                waves=[WaveRecord.from_json(w) for w in data.get("waves", [])],
                samples=[Sample.from_json(s) for s in data.get("samples", [])],
                notes=[str(n) for n in data.get("notes", [])],
                target_problems=[str(n) for n in data.get("target_problems", [])],
                faults=[FaultRun.from_json(f) for f in data.get("faults", [])],
                reconciliation=None
                if data.get("reconciliation") is None
                else Reconciliation.from_json(data["reconciliation"]),
                checks=dict(data.get("checks", {})),
                real_tablets=[RealCentreRun.from_json(c) for c in data.get("real_tablets", [])],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a vigie run record: {exc!r}") from exc

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write as JSON, atomically: a crash mid-write never leaves half a record."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.to_json(), fh, separators=(",", ":"))
            os.chmod(tmp, 0o644)  # mkstemp makes it private; reports are shared
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunRecord:
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(json.load(fh))


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
