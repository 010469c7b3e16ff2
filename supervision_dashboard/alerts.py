"""Turning feed changes into the alerts a jury must not miss.

Four kinds, from what went wrong in real sessions: a tablet newly lost; a reconnect
loop (the 2025 EDN: answer two questions, get disconnected, reconnect, repeat); a
centre losing a large share of its tablets at once (the 2022 load test); a fraud
attempt (a candidate typing ``correction.php``). Detection runs once per feed merge,
in the feed thread, so every juror sees the same alerts with the same ids.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vigie.protocol import CandidateState

if TYPE_CHECKING:
    from supervision_dashboard.feed import FeedState, Row


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    ts: float  # server time of the feed answer that revealed it
    kind: str  # "lost" | "loop" | "mass" | "fraud"
    centre: str | None
    candidate_id: str | None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class AlertDetector:
    loop_reconnects: int = 3  # this many reconnects ...
    loop_window_s: float = 300.0  # ... within this window is a loop
    mass_share: float = 0.2  # this share of a centre's connected tablets ...
    mass_min: int = 5  # ... (and at least this many) ...
    mass_window_s: float = 30.0  # ... lost within this window
    keep: int = 500

    def __post_init__(self) -> None:
        self._alerts: deque[Alert] = deque(maxlen=self.keep)
        self._next_id = 1
        self._reconnects: dict[str, deque[float]] = defaultdict(deque)
        self._loop_alerted_at: dict[str, float] = {}
        self._lost: dict[str, deque[float]] = defaultdict(deque)
        self._mass_alerted_at: dict[str, float] = {}

    def _emit(self, ts: float, kind: str, centre: str | None, cid: str | None, **f: Any) -> None:
        self._alerts.append(Alert(self._next_id, ts, kind, centre, cid, f))
        self._next_id += 1

    def observe(self, changed: list[tuple[Row | None, Row]], state: FeedState, now: float) -> None:
        lost_centres: set[str] = set()
        for old, new in changed:
            cid, centre = str(new["id"]), str(new.get("centre", ""))
            was = old.get("state") if old else None
            if new.get("state") == CandidateState.LOST and was != CandidateState.LOST:
                self._emit(now, "lost", centre, cid)
                self._lost[centre].append(now)
                lost_centres.add(centre)
            more = int(new.get("reconnects") or 0) - int((old or {}).get("reconnects") or 0)
            if old is not None and more > 0:
                self._check_loop(cid, centre, more, now)
        for centre in lost_centres:
            self._check_mass(centre, state, now)

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
