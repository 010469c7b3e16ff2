"""The scenario's faults, applied on the run's clock from the master, and watched.

:class:`FaultTimeline` injects each fault at its run time: a centre's network through a
:class:`~simulator.faults.CentreNetwork` (nftables, or the tablets' simulated cut),
server faults through the exam server's operator endpoint, a crash through whoever
started the server (``vigie rehearse``). A fault that cannot be applied is recorded as
not applied, with why, and the report says so: never silently skipped.

:class:`RecoveryWatch` polls the server's supervision counts by centre while faults may
be running, so that the certifier judges detection and recovery by the server's own
view (late, lost), not the fleet's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import gevent
import msgspec

from scenarios.model import Fault, ReconnectLoop, Scenario
from simulator.record import FaultRun
from simulator.run.jury import NationalJury
from vigie.jury_client import JuryApiError
from vigie.protocol import CandidateState

POLL_S = 2.0  # supervision counts are read this often while a fault may be running
#: States of a candidate that the fault took away from the exam, in the server's view.
OUT = (CandidateState.LATE.value, CandidateState.LOST.value)
#: States of a connected candidate (the tablets a fault can affect), before the launch too.
SITTING = (
    CandidateState.WAITING.value,
    CandidateState.IN_PROGRESS.value,
    CandidateState.PAUSED.value,
    CandidateState.LATE.value,
)
RECOVERED_SHARE = 0.99  # "back": 99% of the affected tablets no longer late or lost
#: The operator endpoint's name for each server fault of a scenario.
OPERATOR_KINDS = {
    "db_stall": "db_stall",
    "latency": "latency",
    "error_rate": "error",
    "drop_planned_extra_time": "drop_planned_extra_time",
}


class Network(Protocol):
    """What the timeline needs of :class:`simulator.faults.CentreNetwork`."""

    mode: str

    def cut(self, centres: Sequence[str]) -> None: ...
    def restore(self, centres: Sequence[str]) -> None: ...
    def reset(self, centres: Sequence[str]) -> None: ...
    def close(self) -> None: ...


@dataclass
class FaultControl:
    """What the run may use to inject faults; what is missing makes a fault not applied."""

    operator_token: str | None = None
    networks: dict[str, Network] = field(default_factory=dict)  # by mode, opened by the runner
    # kill -9 the server, restart it after the given seconds (blocks until it answers);
    # returns how it was done, for the report.
    crash: Callable[[float], str] | None = None


@dataclass
class _Event:
    t: float
    index: int  # the fault's index in the scenario
    action: str  # "start", "stop", "reset"


@dataclass
class FaultTimeline:
    scenario: Scenario
    runs: list[FaultRun]  # the record's, in the scenario's order
    jury: NationalJury
    control: FaultControl
    note: Callable[[str], None]
    now: Callable[[], float]
    sleep: Callable[[float], object] = gevent.sleep
    _crashes: list[gevent.Greenlet] = field(default_factory=list)

    def events(self) -> list[_Event]:
        out: list[_Event] = []
        for i, fault in enumerate(self.scenario.faults):
            if isinstance(fault, ReconnectLoop):
                n = 0
                while fault.at_s + n * fault.every_s < fault.end_s and n < 10_000:
                    out.append(_Event(fault.at_s + n * fault.every_s, i, "reset"))
                    n += 1
                out.append(_Event(fault.end_s, i, "stop"))
            else:
                out.append(_Event(fault.at_s, i, "start"))
                if fault.kind == "centre_outage":
                    out.append(_Event(fault.end_s, i, "stop"))
        return sorted(out, key=lambda e: (e.t, e.index))

    def run(self) -> None:
        for event in self.events():
            while (left := event.t - self.now()) > 0:
                self.sleep(min(left, 1.0))
            fault, run = self.scenario.faults[event.index], self.runs[event.index]
            try:
                self._do(fault, run, event)
            except (JuryApiError, OSError, RuntimeError) as exc:
                run.notes.append(f"t={self.now():.1f}s {event.action} failed: {exc}")
                self.note(f"fault {fault.kind}: {event.action} failed: {exc}")
                if run.started_at is None:
                    run.how = f"not applied: {exc}"
        gevent.joinall(self._crashes, timeout=120)

    def _do(self, fault: Fault, run: FaultRun, event: _Event) -> None:
        now = round(self.now(), 3)
        centres = fault.targets
        if fault.kind in ("centre_outage", "reconnect_loop"):
            net = self.control.networks.get(getattr(fault, "mode", ""))
            if net is None:
                run.how = "not applied: no control of the centres' network in this run"
                return
            if event.action == "stop":
                if fault.kind == "centre_outage":
                    net.restore(centres)
                run.ended_at = now
                self.note(f"fault {fault.kind} ended for {', '.join(centres)}")
                return
            if event.action == "reset":
                net.reset(centres)
            else:
                net.cut(centres)
            if run.started_at is None:
                run.started_at, run.applied, run.how = now, True, net.mode
                self.note(f"fault {fault.kind} started for {', '.join(centres)} ({net.mode})")
            return
        if fault.kind == "server_crash":
            if self.control.crash is None:
                run.how = "not applied: needs control of the server process (vigie rehearse)"
                self.note("fault server_crash not applied: the run does not own the server")
                return
            run.started_at, run.applied = now, True
            self.note(f"fault server_crash: killing the server for {fault.duration_s:g} s")
            self._crashes.append(gevent.spawn(self._crash, fault, run))
            return
        body: dict[str, Any] = {"kind": OPERATOR_KINDS[fault.kind], "duration_s": fault.duration_s}
        for name in ("ms", "ratio"):
            if hasattr(fault, name):
                body[name] = getattr(fault, name)
        if centres:
            body["centres"] = centres
        self.jury.fault(body)
        run.started_at, run.applied, run.how = now, True, "operator endpoint"
        run.ended_at = round(now + fault.duration_s, 3)
        self.note(f"fault {fault.kind} applied for {fault.duration_s:g} s (operator endpoint)")

    def _crash(self, fault: Fault, run: FaultRun) -> None:
        assert self.control.crash is not None
        try:
            run.how = self.control.crash(fault.duration_s)
            run.ended_at = round(self.now(), 3)
            self.note(f"fault server_crash: the server answers again ({run.how})")
        except (OSError, RuntimeError) as exc:
            run.notes.append(f"restart failed: {exc}")
            self.note(f"fault server_crash: restart failed: {exc}")


@dataclass
class Poll:
    t: float
    centres: dict[str, dict[str, int]]  # centre -> state -> candidates
    offline: dict[str, int]  # centre -> answers queued offline so far (the fleet's)
    # centre -> reconnects the server counted so far: a tablet dropped and back between
    # two polls is never seen lost, but the server's count of its reconnects moved
    reconnects: dict[str, int] = field(default_factory=dict)


@dataclass
class RecoveryWatch:
    """Polls the supervision counts from just before the first fault to the run's end."""

    scenario: Scenario
    jury: NationalJury
    now: Callable[[], float]
    offline: Callable[[], dict[str, int]]
    polls: list[Poll] = field(default_factory=list)
    failures: int = 0
    _reconnects: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> centre, n

    def run(self) -> None:
        windows = [f for f in self.scenario.faults if f.kind != "drop_planned_extra_time"]
        if not windows:
            return
        first = min(f.at_s for f in windows) - 2 * POLL_S
        while (left := first - self.now()) > 0:
            gevent.sleep(min(left, 1.0))
        cursor: int | None = None
        while self.now() < self.scenario.end_s:
            started = time.monotonic()
            try:
                cursor, counts, rows = self.jury.counts(cursor)
                for row in rows:
                    seen = self._reconnects.get(row.id, ("", 0))[1]
                    self._reconnects[row.id] = (row.centre, max(seen, row.reconnects))
                by_centre: dict[str, int] = {}
                for centre, n in self._reconnects.values():
                    by_centre[centre] = by_centre.get(centre, 0) + n
                self.polls.append(
                    Poll(
                        round(self.now(), 3),
                        _plain(counts.centres),
                        dict(self.offline()),
                        by_centre,
                    )
                )
            except (JuryApiError, msgspec.DecodeError, ValueError):
                self.failures += 1  # the server is down (a crash): the gap is the evidence
                cursor = None
            gevent.sleep(max(0.2, POLL_S - (time.monotonic() - started)))


def _plain(centres: Any) -> dict[str, dict[str, int]]:
    return {
        str(c): {str(k): int(v) for k, v in dict(states).items()} for c, states in centres.items()
    }


def measure_recovery(runs: Sequence[FaultRun], scenario: Scenario, polls: Sequence[Poll]) -> None:
    """Fill each fault's detection and recovery figures from the supervision polls."""
    for run in runs:
        if run.window_end_s is None or not run.applied:
            continue
        centres = run.centres or scenario.simulated_centres  # never the real tablets
        before = [p for p in polls if p.t <= run.at_s]
        if not before:
            run.notes.append("no supervision count before the fault: recovery not measured")
            continue
        base = before[-1]
        affected = _sum(base, centres, SITTING)
        base_out = _sum(base, centres, OUT)
        run.affected_tablets = affected
        ended = run.ended_at if run.ended_at is not None else run.at_s + run.duration_s
        # Read within the fault's own window (another fault may follow it), and never past
        # the close: every state then speaks of the close (finished, unfinished).
        until = min(run.window_end_s, scenario.close_at_s)
        during = [p for p in polls if run.at_s <= p.t < until]
        run.series = [[p.t, float(_sum(p, centres, OUT) - base_out)] for p in during]
        if affected == 0:
            run.notes.append("no tablet was sitting the unit there when the fault started")
            continue
        base_rc = sum(base.reconnects.get(c, 0) for c in centres)
        seen = next(
            (
                p
                for p in during
                if _sum(p, centres, OUT) > base_out
                or sum(p.reconnects.get(c, 0) for c in centres) > base_rc
            ),
            None,
        )
        run.detected_after_s = None if seen is None else round(seen.t - run.at_s, 3)
        allowed = (1.0 - RECOVERED_SHARE) * affected
        back = next(
            (p for p in during if p.t >= ended and _sum(p, centres, OUT) - base_out <= allowed),
            None,
        )
        run.recovered_after_s = None if back is None else round(max(0.0, back.t - ended), 3)
        last = back or (during[-1] if during else base)
        run.answers_queued_offline = sum(
            last.offline.get(c, 0) - base.offline.get(c, 0) for c in centres
        )
        if back is None and scenario.close_at_s < run.window_end_s:
            run.notes.append("the unit closed within the fault's window: recovery cut short")


def _sum(poll: Poll, centres: Sequence[str], states: Sequence[str]) -> int:
    return sum(poll.centres.get(c, {}).get(s, 0) for c in centres for s in states)


def preflight(scenario: Scenario, control: FaultControl) -> list[str]:
    """What the run will not be able to apply, said before it starts (never a surprise in
    the report): the certificate will not cover these faults."""
    out: list[str] = []
    needs_token = [f.kind for f in scenario.faults if f.kind in OPERATOR_KINDS]
    if needs_token and not control.operator_token:
        out.append(
            f"{len(needs_token)} server fault(s) ({', '.join(needs_token)}) will not be "
            "applied: no operator token (start the server with vigie serve --operator-token "
            "and pass the same with --operator-token or $VIGIE_OPERATOR_TOKEN)"
        )
    if control.crash is None and any(f.kind == "server_crash" for f in scenario.faults):
        out.append(
            "server_crash will not be applied: it needs the server process "
            "(vigie rehearse starts, kills and restarts it)"
        )
    return out
