"""Turning feed changes into the alerts a jury must not miss.

The kinds, from what went wrong in real sessions: a tablet newly lost; a reconnect
loop (the 2025 EDN: answer two questions, get disconnected, reconnect, repeat); a
centre losing a large share of its tablets at once (the 2022 load test); a candidate
whose deadline lacks their planned extra time (2019: one tiers-temps not applied, a
national re-sit); a tablet low on battery; a connected tablet whose answers do not
reach the server (2023: the database stalled, answers piled up on the tablets); a fraud
attempt (a candidate typing ``correction.php``). Detection runs once per feed merge, in
the feed thread, so every juror sees the same alerts with the same ids.

During a mass loss one centre raises hundreds of alerts: they are all kept, shown
grouped by centre (one line per centre, its count by kind, its age), cleared when
resolved (the tablet is back, the loop has calmed, the centre has no loss left),
set aside when the next unit is launched, and acknowledged by name.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supervision_dashboard.acks import AckBook
from vigie.protocol import CandidateState

if TYPE_CHECKING:
    from supervision_dashboard.feed import FeedState, Row


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    ts: float  # server time of the feed answer that revealed it
    kind: str  # "lost" | "loop" | "mass" | "planned" | "battery" | "pending" | "fraud"
    centre: str | None
    candidate_id: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    unit_id: str | None = None  # the unit running when it was raised


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """A centre's unresolved alerts of the current unit, as one line of the panel."""

    centre: str
    alerts: tuple[Alert, ...]  # newest first
    first_ts: float
    last_ts: float
    acked_by: str | None  # the juror who acknowledged everything up to last_ts, if any
    acked_at: float | None

    def count(self, kind: str) -> int:
        return sum(1 for a in self.alerts if a.kind == kind)


@dataclass
class AlertDetector:
    loop_reconnects: int = 3  # this many reconnects ...
    loop_window_s: float = 300.0  # ... within this window is a loop
    mass_share: float = 0.2  # this share of a centre's connected tablets ...
    mass_min: int = 5  # ... (and at least this many) ...
    mass_window_s: float = 30.0  # ... lost within this window
    keep: int = 200_000  # all of an exam's alerts (a bound only against a runaway)
    battery_low: int = 15  # a working tablet at this charge or below: plug it in ...
    battery_ok: int = 25  # ... cleared once charging brought it back here (no flapping)
    # Answers pending on a connected tablet at this many polls in a row: not one in transit
    # (an answer and the heartbeat counting it cross in a second) but answers not landing.
    pending_polls: int = 3
    acks: AckBook = field(default_factory=AckBook)  # shared by the process's feeds, on disk

    def __post_init__(self) -> None:
        self._alerts: deque[Alert] = deque(maxlen=self.keep)
        self._resolved: dict[int, float] = {}  # alert id -> when it was resolved
        self._open: dict[int, Alert] = {}  # unresolved, oldest first: what the panel reads
        self._active_lost: dict[str, int] = {}  # candidate id -> its unresolved lost alert
        self._active_planned: dict[str, int] = {}  # candidate id -> its planned-time alert
        self._active_battery: dict[str, int] = {}  # candidate id -> its low-battery alert
        self._active_pending: dict[str, int] = {}  # candidate id -> its pending-answers alert
        # Candidates whose tablet is connected with answers pending, and for how many polls:
        # a row is only re-sent when it changes, so the count runs on every poll, not per row.
        self._pending_streak: dict[str, int] = {}
        self._pending_rows: dict[str, Row] = {}
        self._pending_seeded = False
        self._unit: str | None = None
        self._next_id = 1
        self._reconnects: dict[str, deque[float]] = defaultdict(deque)
        self._loop_alerted_at: dict[str, float] = {}
        self._lost: dict[str, deque[float]] = defaultdict(deque)
        self._mass_alerted_at: dict[str, float] = {}

    def _emit(self, ts: float, kind: str, centre: str | None, cid: str | None, **f: Any) -> Alert:
        alert = Alert(self._next_id, ts, kind, centre, cid, f, self._unit)
        self._alerts.append(alert)
        self._open[alert.id] = alert
        self._next_id += 1
        return alert

    def _resolve(self, alert_id: int, now: float) -> None:
        if self._open.pop(alert_id, None) is not None:
            self._resolved[alert_id] = now

    def observe(self, changed: list[tuple[Row | None, Row]], state: FeedState, now: float) -> None:
        if state.unit_id != self._unit:
            # A new unit: the previous one's alerts are set aside (the procès-verbal keeps them).
            for a in [a for a in self._open.values() if a.kind != "fraud"]:
                self._resolve(a.id, now)
            self._active_lost.clear()
            self._active_planned.clear()
            self._active_battery.clear()
            self._active_pending.clear()
            self._pending_streak.clear()
            self._pending_rows.clear()
            self._unit = state.unit_id
        if not self._pending_seeded:
            # The first snapshot raises nothing, but a tablet already stuck with answers
            # pending then would never be re-sent (its row does not change): start from it.
            self._pending_seeded = True
            for row in state.rows.values():
                self._track_pending(str(row["id"]), str(row.get("centre", "")), row, now)
        lost_centres: set[str] = set()
        for old, new in changed:
            cid, centre = str(new["id"]), str(new.get("centre", ""))
            was = old.get("state") if old else None
            if new.get("state") == CandidateState.LOST and was != CandidateState.LOST:
                self._active_lost[cid] = self._emit(now, "lost", centre, cid).id
                self._lost[centre].append(now)
                lost_centres.add(centre)
            elif new.get("state") not in _STILL_LOST and cid in self._active_lost:
                self._resolve(self._active_lost.pop(cid), now)  # the tablet is back
            self._check_planned(cid, centre, new, now)
            self._check_battery(cid, centre, new, now)
            self._track_pending(cid, centre, new, now)
            more = int(new.get("reconnects") or 0) - int((old or {}).get("reconnects") or 0)
            if old is not None and more > 0:
                self._check_loop(cid, centre, more, now)
        for centre in lost_centres:
            self._check_mass(centre, state, now)
        self._count_pending(now)
        self._settle(state, now)

    def _settle(self, state: FeedState, now: float) -> None:
        """Clear what is over: loops that calmed down, mass losses the centre recovered from."""
        lost_in = {
            str(r.get("centre", "")) for r in state.rows.values() if r.get("state") in _STILL_LOST
        }
        for a in self.active():
            if a.kind == "loop" and now - a.ts > self.loop_window_s:
                last = self._loop_alerted_at.get(a.candidate_id or "")
                if last is None or now - last > self.loop_window_s:
                    self._resolve(a.id, now)
            elif a.kind == "mass" and a.centre not in lost_in:
                self._resolve(a.id, now)

    def _check_planned(self, cid: str, centre: str, new: Row, now: float) -> None:
        """Raised while the server says the deadline lacks the planned time, cleared after."""
        if new.get("planned_missing"):
            if cid not in self._active_planned:
                due = float(new.get("planned_due_s") or 0)
                self._active_planned[cid] = self._emit(
                    now, "planned", centre, cid, min=round(due / 60)
                ).id
        elif cid in self._active_planned:
            self._resolve(self._active_planned.pop(cid), now)

    def _check_battery(self, cid: str, centre: str, new: Row, now: float) -> None:
        """A tablet that will not last the unit, while its candidate works: staff bring a
        charger. Cleared once the charge is back up, or when the candidate stops working."""
        level = new.get("battery")
        working = new.get("state") in _WORKING and bool(new.get("connected", True))
        active = self._active_battery.get(cid)
        if isinstance(level, int) and working and level <= self.battery_low:
            if active is None:
                self._active_battery[cid] = self._emit(now, "battery", centre, cid, pct=level).id
        elif active is not None and (
            not working or (isinstance(level, int) and level >= self.battery_ok)
        ):
            self._resolve(self._active_battery.pop(cid), now)

    def _track_pending(self, cid: str, centre: str, new: Row, now: float) -> None:
        """Follow the rows whose connected tablet holds answers the server lacks; clear the
        alert once none is pending any more (the answers got through)."""
        n = new.get("pending_offline")
        count = int(n) if isinstance(n, int | float) else 0
        # A paused candidate's answers wait by design (409 candidate_paused / centre_paused,
        # kept on the tablet), and a tablet away holds them offline: neither is the sign.
        if count > 0 and bool(new.get("connected")) and not new.get("paused"):
            self._pending_rows[cid] = new
        else:
            self._pending_rows.pop(cid, None)
            self._pending_streak.pop(cid, None)
        if count <= 0 and cid in self._active_pending:
            self._resolve(self._active_pending.pop(cid), now)

    def _count_pending(self, now: float) -> None:
        for cid, row in self._pending_rows.items():
            streak = self._pending_streak.get(cid, 0) + 1
            self._pending_streak[cid] = streak
            if streak >= self.pending_polls and cid not in self._active_pending:
                n = int(row.get("pending_offline") or 0)
                alert = self._emit(now, "pending", str(row.get("centre", "")), cid, n=n)
                self._active_pending[cid] = alert.id

    def _check_loop(self, cid: str, centre: str, more: int, now: float) -> None:
        times = self._reconnects[cid]
        times.extend([now] * more)
        while times and now - times[0] > self.loop_window_s:
            times.popleft()
        last = self._loop_alerted_at.get(cid)
        if len(times) >= self.loop_reconnects and (last is None or now - last > self.loop_window_s):
            self._loop_alerted_at[cid] = now
            self._emit(now, "loop", centre, cid, n=len(times), m=round(self.loop_window_s / 60))

    def _check_mass(self, centre: str, state: FeedState, now: float) -> None:
        times = self._lost[centre]
        while times and now - times[0] > self.mass_window_s:
            times.popleft()
        # Share of the tablets that were in the session: not those that never connected.
        size = sum(
            1
            for r in state.rows.values()
            if r.get("centre") == centre and r.get("state") != CandidateState.NOT_CONNECTED
        )
        last = self._mass_alerted_at.get(centre)
        if (
            size
            and len(times) >= self.mass_min
            and len(times) / size >= self.mass_share
            and (last is None or now - last > self.mass_window_s)
        ):
            self._mass_alerted_at[centre] = now
            self._emit(now, "mass", centre, None, n=len(times), pct=round(100 * len(times) / size))

    def observe_fraud(self, alerts: list[dict[str, Any]], now: float) -> None:
        for a in alerts:
            self._emit(
                float(a.get("ts") or now),
                "fraud",
                a.get("centre"),
                a.get("candidate_id"),
                path=str(a.get("path", ""))[:200],
                method=a.get("method"),
            )

    def latest(self, limit: int) -> list[Alert]:
        """Newest first."""
        return list(reversed(self._alerts))[:limit]

    def active(self) -> list[Alert]:
        """Unresolved alerts of the current unit (fraud until acknowledged), oldest first."""
        return list(self._open.values())

    def acknowledge(self, centre: str, juror: str, now: float) -> None:
        self.acks.put(centre, juror, now)

    def groups(self, centre: str | None = None) -> list[AlertGroup]:
        """One group per centre, unacknowledged first, then the newest."""
        by_centre: dict[str, list[Alert]] = defaultdict(list)
        for a in self.active():
            code = a.centre or ""
            if centre is None or code == centre:
                by_centre[code].append(a)
        out = []
        for code, alerts in by_centre.items():
            last = max(a.ts for a in alerts)
            ack = self.acks.get(code)
            # An acknowledgement covers what was there when it was given, not what came after.
            acked = ack is not None and ack[1] >= last
            out.append(
                AlertGroup(
                    code,
                    tuple(reversed(alerts)),
                    min(a.ts for a in alerts),
                    last,
                    ack[0] if acked and ack else None,
                    ack[1] if acked and ack else None,
                )
            )
        out.sort(key=lambda g: (g.acked_by is not None, -g.last_ts, g.centre))
        return out


_STILL_LOST = frozenset({CandidateState.LOST.value, CandidateState.UNFINISHED.value})
_WORKING = frozenset({CandidateState.IN_PROGRESS.value, CandidateState.LATE.value})
