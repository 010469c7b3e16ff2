"""The run record as a whole: everything one run measured, its JSON and its file.

Stdlib only, like the whole record: imported by gevent-patched Locust processes.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.record.outcomes import FaultRun, RealCentreRun, Reconciliation
from simulator.record.timeline import Sample, WaveRecord, opt_float

RECORD_FORMAT = 1


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
                ended_at=opt_float(data.get("ended_at")),
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
