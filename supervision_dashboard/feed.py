"""One merged copy of the candidate rows per dashboard process, kept fresh by one thread.

Every juror's browser refresh reads from this copy instead of calling the server:
ten jurors watching cost the exam server one ``changes?since=cursor`` poll per second,
not ten snapshots of 12,000 rows. A feed is kept per *scope*: ``None`` for the
national scope (national and observer tokens) and one per centre for centre jurors,
whose token only sees their own centre anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from supervision_dashboard.acks import AckBook
from supervision_dashboard.alerts import Alert, AlertDetector, AlertGroup
from vigie.jury_client import JSON, JuryApiError, JuryClient
from vigie.protocol import ErrorCode

log = logging.getLogger(__name__)

Row = dict[str, Any]
FRAUD_EVERY_POLLS = 3


@dataclass
class FeedState:
    """The merged rows and what the server said about them; not thread-safe by itself."""

    rows: dict[str, Row] = field(default_factory=dict)
    row_version: dict[str, int] = field(default_factory=dict)
    version: int = 0  # bumped by every merge that changed a row or the counts
    cursor: int | None = None
    server_ts: float = 0.0
    unit_id: str | None = None
    counts: JSON = field(default_factory=dict)
    snapshots: int = 0  # how many full snapshots were taken (1 + cursor expiries)

    def apply_snapshot(self, data: JSON) -> list[tuple[Row | None, Row]]:
        """Replace everything with a snapshot; returns (old, new) for each changed row."""
        self.snapshots += 1
        incoming = {str(r["id"]): r for r in data.get("candidates", [])}
        changed = self._merge(data, incoming)
        for gone in set(self.rows) - set(incoming):
            del self.rows[gone]
            self.row_version.pop(gone, None)
        return changed

    def apply_changes(self, data: JSON) -> list[tuple[Row | None, Row]]:
        incoming = {str(r["id"]): r for r in data.get("candidates", [])}
        return self._merge(data, incoming)

    def _merge(self, data: JSON, incoming: dict[str, Row]) -> list[tuple[Row | None, Row]]:
        changed: list[tuple[Row | None, Row]] = []
        counts = data.get("counts") or {}
        unit_id = data.get("unit_id", self.unit_id)  # `changes` answers may leave it out
        bump = counts != self.counts or unit_id != self.unit_id
        for cid, row in incoming.items():
            old = self.rows.get(cid)
            if old != row:
                changed.append((old, row))
        if changed or bump:
            self.version += 1
        for _old, row in changed:
            cid = str(row["id"])
            self.rows[cid] = row
            self.row_version[cid] = self.version
        self.cursor = int(data["cursor"])
        self.server_ts = float(data.get("server_ts") or time.time())
        self.unit_id = unit_id
        self.counts = counts
        return changed


class Feed:
    """Polls one scope of the jury feed in a daemon thread and merges it into a FeedState."""

    def __init__(
        self,
        server_url: str,
        token: str,
        centre: str | None = None,
        interval_s: float = 1.0,
        detector: AlertDetector | None = None,
    ) -> None:
        self.centre = centre
        self.interval_s = interval_s
        self.client = JuryClient(server_url, token)
        self.state = FeedState()
        self.detector = detector or AlertDetector()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.last_ok: float | None = None  # time.monotonic() of the last good poll
        self.last_error: str | None = None
        self.fraud: list[JSON] = []
        self._fraud_since: Any = None
        self._polls = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[Feed], None]] = []

    # --- lifecycle ----------------------------------------------------------------
    def start(self) -> Feed:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"vigie-feed-{self.centre or 'national'}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def set_token(self, token: str) -> None:
        """A fresher token from a new login of the same scope (tokens expire)."""
        self.client.token = token

    def on_update(self, listener: Callable[[Feed], None]) -> None:
        self._listeners.append(listener)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll_once()
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    # --- one poll -----------------------------------------------------------------
    def poll_once(self) -> None:
        try:
            if self.state.cursor is None:
                data = self.client.snapshot(self.centre)
                snapshot = True
            else:
                try:
                    data = self.client.changes(self.state.cursor, self.centre)
                    snapshot = False
                except JuryApiError as exc:
                    if exc.code != ErrorCode.CURSOR_EXPIRED:
                        raise
                    # The server forgot our cursor: a fresh snapshot is the only truth.
                    data = self.client.snapshot(self.centre)
                    snapshot = True
            self._polls += 1
            # Fraud records are rare and read from SQLite: every few polls is enough.
            fraud = (
                self.client.fraud_alerts(self._fraud_since)
                if self._polls % FRAUD_EVERY_POLLS == 1
                else []
            )
        except JuryApiError as exc:
            self.last_error = f"{exc.code}: {exc.message}"
            log.warning("jury feed %s: %s", self.centre or "national", self.last_error)
            return
        except (KeyError, TypeError, ValueError) as exc:
            self.last_error = f"malformed feed answer: {exc}"
            log.warning("jury feed %s: %s", self.centre or "national", self.last_error)
            return
        if self.centre is not None:
            fraud = [a for a in fraud if a.get("centre") == self.centre]
        with self.lock:
            first = self.state.cursor is None
            changed = (
                self.state.apply_snapshot(data) if snapshot else self.state.apply_changes(data)
            )
            new_fraud = [a for a in fraud if a not in self.fraud]
            if new_fraud:
                self.fraud.extend(new_fraud)
                self._fraud_since = new_fraud[-1].get("id", self._fraud_since)
                self.state.version += 1
            # The first snapshot is the starting picture, not news: no alerts for it.
            if not first:
                self.detector.observe(changed, self.state, self.state.server_ts)
            self.detector.observe_fraud(new_fraud, self.state.server_ts)
            self.last_ok = time.monotonic()
            self.last_error = None
        for listener in self._listeners:
            listener(self)

    def alerts(self, limit: int = 50) -> list[Alert]:
        with self.lock:
            return self.detector.latest(limit)

    def alert_groups(self, centre: str | None = None) -> list[AlertGroup]:
        with self.lock:
            return self.detector.groups(centre)

    def acknowledge(self, centre: str, juror: str) -> None:
        with self.lock:
            self.detector.acknowledge(centre, juror, self.state.server_ts or time.time())

    def age_s(self) -> float:
        return time.monotonic() - self.started

    def staleness_s(self) -> float | None:
        return None if self.last_ok is None else time.monotonic() - self.last_ok


class FeedRegistry:
    """The process's feeds, one per scope, started on the first login of that scope."""

    def __init__(
        self, server_url: str, interval_s: float = 1.0, acks: AckBook | None = None
    ) -> None:
        self.server_url = server_url
        self.interval_s = interval_s
        self.acks = acks or AckBook()
        self._feeds: dict[str | None, Feed] = {}
        self._lock = threading.Lock()

    def ensure(self, token: str, centre: str | None) -> Feed:
        with self._lock:
            feed = self._feeds.get(centre)
            if feed is None:
                detector = AlertDetector(acks=self.acks)
                feed = Feed(self.server_url, token, centre, self.interval_s, detector).start()
                self._feeds[centre] = feed
            else:
                feed.set_token(token)
            return feed

    def install(self, feed: Feed) -> None:
        """Use a feed built elsewhere (tests, benchmarks) for its scope."""
        with self._lock:
            self._feeds[feed.centre] = feed

    def all(self) -> list[Feed]:
        with self._lock:
            return list(self._feeds.values())

    def get(self, centre: str | None) -> Feed | None:
        with self._lock:
            return self._feeds.get(centre)

    def stop(self) -> None:
        with self._lock:
            feeds = list(self._feeds.values())
            self._feeds.clear()
        for feed in feeds:
            feed.stop()
