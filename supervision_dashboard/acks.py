"""Who acknowledged each centre's alerts, and up to when: kept on disk with the sessions.

An acknowledgement is a juror's statement ("I have seen CAEN's losses, X is on it"); it
must outlive a restart of the dashboard, or the alerts it covered come back on top
unacknowledged (fraud alerts are read again from the server's first record). Shared by
every feed of the process: the national juror sees what CAEN's centre juror took in hand.
"""

from __future__ import annotations

import threading
from pathlib import Path

from supervision_dashboard.sessions import state_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS acks (centre TEXT PRIMARY KEY, juror TEXT NOT NULL, ts REAL NOT NULL)
"""


class AckBook:
    """centre -> (juror, time of the acknowledgement); on disk when given a directory."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._db = state_db(state_dir, "acks.sqlite3", _SCHEMA)
        # Read on every refresh of every juror: a dict in front of the file.
        rows = self._db.execute("SELECT centre, juror, ts FROM acks").fetchall()
        self._acks: dict[str, tuple[str, float]] = {c: (j, float(ts)) for c, j, ts in rows}

    def put(self, centre: str, juror: str, ts: float) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO acks VALUES (?, ?, ?) ON CONFLICT (centre) DO UPDATE "
                "SET juror = excluded.juror, ts = excluded.ts",
                (centre, juror, ts),
            )
            self._acks[centre] = (juror, ts)

    def get(self, centre: str) -> tuple[str, float] | None:
        return self._acks.get(centre)

    def close(self) -> None:
        with self._lock:
            self._db.close()
