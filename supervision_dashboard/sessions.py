"""Jurors' sessions kept server-side on disk, so that restarting the dashboard logs nobody out.

One small SQLite file in the dashboard's state directory (next to the key that signs
the session cookie, kept there too: a new key at each start would void every cookie).
The juror's jury token stays on the server's disk, never in the browser. Sessions
expire: past their lifetime, or when left idle.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from vigie.jury_client import JuryIdentity

DEFAULT_TTL_S = 12 * 3600.0  # an exam day
DEFAULT_IDLE_S = 2 * 3600.0
_TOUCH_EVERY_S = 60.0  # "last seen" is written at most this often per session

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    sid TEXT PRIMARY KEY, token TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT NULL,
    centre TEXT, lang TEXT NOT NULL, created REAL NOT NULL, seen REAL NOT NULL
)
"""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vigie" / "dashboard"


def secret_key(state_dir: Path | None) -> bytes:
    """The cookie-signing key: made once, kept (owner-only) in the state directory."""
    if state_dir is None:
        return os.urandom(32)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "secret_key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key


def state_db(
    state_dir: Path | None, name: str, schema: str, private: bool = False
) -> sqlite3.Connection:
    """A SQLite file of the state directory (autocommit, WAL), in memory without one;
    ``private``: owner-only."""
    target = ":memory:"
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        target = str(state_dir / name)
    db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(schema)
    if state_dir is not None and private:
        os.chmod(target, 0o600)
    return db


class SessionStore:
    """sid -> (identity, lang); on disk when given a directory, else in memory (tests)."""

    def __init__(
        self,
        state_dir: Path | None = None,
        ttl_s: float = DEFAULT_TTL_S,
        idle_s: float = DEFAULT_IDLE_S,
    ) -> None:
        self.ttl_s, self.idle_s = ttl_s, idle_s
        self._lock = threading.Lock()
        self._db = state_db(state_dir, "sessions.sqlite3", _SCHEMA, private=True)  # jury tokens

    def new(self, identity: JuryIdentity, lang: str) -> str:
        sid = secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, identity.token, identity.username, identity.role, identity.centre, lang,
                 now, now),
            )  # fmt: skip
        return sid

    def get(self, sid: str) -> tuple[JuryIdentity, str, float] | None:
        """(identity, lang, created) of a live session; an expired one is deleted."""
        now = time.time()
        with self._lock:
            row = self._db.execute(
                "SELECT token, username, role, centre, lang, created, seen FROM sessions"
                " WHERE sid = ?",
                (sid,),
            ).fetchone()
            if row is None:
                return None
            token, username, role, centre, lang, created, seen = row
            if now - created > self.ttl_s or now - seen > self.idle_s:
                self._db.execute("DELETE FROM sessions WHERE sid = ?", (sid,))
                return None
            if now - seen > _TOUCH_EVERY_S:
                self._db.execute("UPDATE sessions SET seen = ? WHERE sid = ?", (now, sid))
        return JuryIdentity(token, username, role, centre), lang, created

    def set_lang(self, sid: str, lang: str) -> None:
        with self._lock:
            self._db.execute("UPDATE sessions SET lang = ? WHERE sid = ?", (lang, sid))

    def delete(self, sid: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE sid = ?", (sid,))

    def purge(self) -> int:
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM sessions WHERE ? - created > ? OR ? - seen > ?",
                (now, self.ttl_s, now, self.idle_s),
            )
            return cur.rowcount
