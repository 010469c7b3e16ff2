"""What the run found beside the load: the injected faults and how the platform came through
them, the answers reconciled against the server, and the centres left to real tablets.

Stdlib only, like the whole record: imported by gevent-patched Locust processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.record.ops import OpTally


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
