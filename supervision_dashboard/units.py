"""The session's units as the national jury controls them: which exist, and where each stands.

The jury API has no list of units, but the exam server serves the demo session
(:func:`vigie.demo.generate_session`), whose unit ids, titles, kinds and durations do
not depend on the seed: the catalogue comes from there. Where each unit stands comes
from the server's own record: the launch and close events (``/jury/incidents``) and
the replacement decisions (``/jury/results``, readable only while no unit runs). A
replacement is final (once per unit, never undone), so one seen, or made from this
process, is remembered: the view still shows it while the results are sealed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from vigie.demo import generate_session
from vigie.jury_client import JuryApiError, JuryClient

#: Seconds a reading of the units' events is shared by every national juror of the process:
#: /jury/incidents reads the whole record, and fifty jurors must not each read it per refresh.
EVENTS_TTL_S = 5.0


class UnitState(StrEnum):
    NOT_LAUNCHED = "not_launched"
    RUNNING = "running"
    CLOSED = "closed"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class UnitRef:
    id: str
    title: str
    kind: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class UnitStatus:
    ref: UnitRef
    state: UnitState
    launched_at: float | None = None
    deadline: float | None = None  # the national end the launch gave
    closed_at: float | None = None
    replaced_by: str | None = None  # this unit is cancelled: the backup that counts instead
    replaces: str | None = None  # this unit is a backup counting for a cancelled one

    @property
    def id(self) -> str:
        return self.ref.id

    @property
    def in_replacement(self) -> bool:
        return self.replaced_by is not None or self.replaces is not None


@cache
def catalogue() -> tuple[UnitRef, ...]:
    """The session's units in order (any seed gives the same ids, titles and durations)."""
    return tuple(
        UnitRef(u.id, u.title, u.kind.value, u.duration_s) for u in generate_session(0).units
    )


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def statuses(
    events: Iterable[Mapping[str, Any]], replacements: Mapping[str, str]
) -> list[UnitStatus]:
    """Each unit's state from the launch and close events and the replacements
    (cancelled unit -> backup); a unit the events name but the catalogue lacks is shown too."""
    refs = {r.id: r for r in catalogue()}
    launched: dict[str, tuple[float | None, float | None]] = {}
    closed: dict[str, float | None] = {}
    for e in events:
        data = e.get("data")
        if not isinstance(data, Mapping) or not data.get("unit_id"):
            continue
        uid = str(data["unit_id"])
        if e.get("kind") == "launch":
            launched[uid] = (_num(e.get("ts")), _num(data.get("deadline")))
        elif e.get("kind") == "close":
            closed[uid] = _num(e.get("ts"))
    for uid in [*launched, *replacements, *replacements.values()]:
        refs.setdefault(uid, UnitRef(uid, uid, "", 0.0))
    backups = {b: u for u, b in replacements.items()}
    out = []
    for uid, ref in refs.items():
        start, deadline = launched.get(uid, (None, None))
        if uid in replacements:
            state = UnitState.REPLACED
        elif uid in closed:
            state = UnitState.CLOSED
        elif uid in launched:
            state = UnitState.RUNNING
        else:
            state = UnitState.NOT_LAUNCHED
        out.append(
            UnitStatus(
                ref,
                state,
                start,
                deadline,
                closed.get(uid),
                replacements.get(uid),
                backups.get(uid),
            )
        )
    return out


def running(units: Iterable[UnitStatus]) -> UnitStatus | None:
    return next((u for u in units if u.launched_at is not None and u.closed_at is None), None)


@dataclass(frozen=True, slots=True)
class Overtime:
    candidate_id: str
    centre: str
    extra_s: float


def keeps_extra_time(rows: Iterable[Mapping[str, Any]], unit_id: str, now: float) -> list[Overtime]:
    """Who would work on after a close at ``now``, and for how long: the server ends each
    candidate's unit at the close plus their own extra time (:func:`still_working`)."""
    return [
        Overtime(w.candidate_id, w.centre, w.deadline - now)
        for w in still_working(rows, unit_id, now, now)
    ]


@dataclass(frozen=True, slots=True)
class Working:
    candidate_id: str
    centre: str
    deadline: float


def still_working(
    rows: Iterable[Mapping[str, Any]], unit_id: str, closed_at: float, now: float
) -> list[Working]:
    """After a close: who still works on this unit, on their own extra time (the server
    refuses the next launch until they are done). Each one's end is the server's rule,
    the close (or the national end, if earlier) plus their extra time: a row read just
    before the close still carries the deadline of a unit that was not closed."""
    now = max(now, closed_at)  # a feed polled just before the close is not "after" it
    out = []
    for r in rows:
        deadline = r.get("deadline")
        if r.get("unit_id") != unit_id or r.get("state") == "finished":
            continue
        if not isinstance(deadline, int | float):
            continue
        end = min(float(deadline), closed_at + float(r.get("extra_time_s") or 0))
        if end > now:
            out.append(Working(str(r.get("id")), str(r.get("centre", "")), end))
    out.sort(key=lambda w: (-w.deadline, w.centre, w.candidate_id))
    return out


class UnitBook:
    """The process's reading of the units: events shared for a few seconds, replacements kept."""

    def __init__(self, ttl_s: float = EVENTS_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._events: list[Mapping[str, Any]] = []
        self._read_at: float | None = None
        self._replacements: dict[str, str] = {}

    def replaced(self, unit_id: str, backup_id: str) -> None:
        with self._lock:
            self._replacements[unit_id] = backup_id

    def learn(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        """Replacements named by a result (``decisions`` of /jury/results)."""
        for d in decisions:
            if d.get("kind") != "neutralise" and d.get("unit_id") and d.get("backup_id"):
                self.replaced(str(d["unit_id"]), str(d["backup_id"]))

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = None

    def read(self, client: JuryClient, with_results: bool = False) -> list[UnitStatus]:
        """The units now (raises JuryApiError when the server cannot say). ``with_results``
        also asks the results for replacements made elsewhere (sealed while a unit runs)."""
        now = time.monotonic()
        with self._lock:
            fresh = self._read_at is not None and now - self._read_at < self.ttl_s
            events = self._events
        if not fresh:
            answer = client.incidents()
            events = [e for e in answer.get("events") or [] if e.get("kind") in ("launch", "close")]
            with self._lock:
                self._events, self._read_at = events, now
        if with_results:
            # Sealed while a unit runs or a backup is not closed yet: what is known stands.
            with contextlib.suppress(JuryApiError):
                self.learn(client.results().get("decisions") or [])
        with self._lock:
            replacements = dict(self._replacements)
        return statuses(events, replacements)
