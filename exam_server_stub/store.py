"""SQLite on disk: the schema, and ONE writer thread doing group commits (the statements
themselves are all in :mod:`exam_server_stub.queries`).

Durability reasoning: WAL mode with ``synchronous=FULL`` fsyncs the WAL at every
commit, so a committed answer survives ``kill -9`` and power loss. To keep that
affordable under 9,800 tablets, the writer thread takes whatever is queued,
runs it in one transaction (each job in its own SAVEPOINT, so one refused job
never spoils its neighbours), commits once, and only then resolves each job's
future on the event loop: an answer is acknowledged after its commit, never
before. Reads for the jury (timelines, fraud alerts) go through a separate
read-only connection; WAL readers never block the writer.

Test only: ``ack_before_commit`` (``vigie serve --unsafe-ack-before-commit``) breaks that
promise on purpose, so that the certifier's reconciliation can be shown to catch a server
that loses acknowledged answers: each job runs and is answered at once, and its
transaction commits afterwards, or only once a db_stall is over; a ``kill -9`` during a
stall loses every answer acknowledged since it began.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS candidates (
    id TEXT PRIMARY KEY, centre TEXT NOT NULL, birth_date TEXT NOT NULL, access_code TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jury_accounts (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, centre TEXT,
    salt BLOB NOT NULL, hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
    id TEXT PRIMARY KEY, key BLOB NOT NULL, nonce BLOB NOT NULL,
    launched_at REAL, deadline REAL, closed_at REAL
);
CREATE TABLE IF NOT EXISTS extra_time (
    id INTEGER PRIMARY KEY, unit_id TEXT NOT NULL, candidate_id TEXT, centre TEXT,
    seconds REAL NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL, ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pauses (
    id INTEGER PRIMARY KEY, centre TEXT NOT NULL, paused_at REAL NOT NULL, resumed_at REAL
);
CREATE TABLE IF NOT EXISTS candidate_pauses (
    id INTEGER PRIMARY KEY, candidate_id TEXT NOT NULL, paused_at REAL NOT NULL, resumed_at REAL
);
CREATE TABLE IF NOT EXISTS instructions (
    id TEXT PRIMARY KEY, candidate_id TEXT NOT NULL, body TEXT NOT NULL,
    created_at REAL NOT NULL, acked_at REAL
);
CREATE INDEX IF NOT EXISTS instructions_pending ON instructions (candidate_id) WHERE acked_at IS NULL;
CREATE TABLE IF NOT EXISTS answers (
    seq INTEGER PRIMARY KEY, candidate_id TEXT NOT NULL, action_id TEXT NOT NULL,
    unit_id TEXT NOT NULL, question_id TEXT NOT NULL, answer TEXT NOT NULL,
    final INTEGER NOT NULL, client_ts REAL NOT NULL, server_ts REAL NOT NULL,
    unlocked TEXT
);
-- Idempotency: a re-sent action id can never become a second answer.
CREATE UNIQUE INDEX IF NOT EXISTS answers_action ON answers (candidate_id, action_id);
CREATE TABLE IF NOT EXISTS finishes (
    candidate_id TEXT NOT NULL, unit_id TEXT NOT NULL, action_id TEXT NOT NULL,
    finished_at REAL NOT NULL, PRIMARY KEY (candidate_id, unit_id)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, client_ts REAL,
    candidate_id TEXT, centre TEXT, kind TEXT NOT NULL, actor TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_candidate ON audit (candidate_id, seq);
-- Partial: answers never touch it; a restart replays connections from it (reconnects,
-- time disconnected) without reading the whole audit.
CREATE INDEX IF NOT EXISTS audit_connection ON audit (seq)
    WHERE kind IN ('connect', 'disconnect', 'launch', 'close');
-- The jury's decisions on the correction (neutralised questions, replaced units).
CREATE INDEX IF NOT EXISTS audit_decisions ON audit (seq)
    WHERE kind IN ('neutralise', 'replace_unit');
CREATE TABLE IF NOT EXISTS fraud_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, candidate_id TEXT NOT NULL,
    centre TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, user_agent TEXT NOT NULL
);
-- The Monday connection test: each tablet's latest report (docs/connection-test.md).
CREATE TABLE IF NOT EXISTS connection_tests (
    centre TEXT NOT NULL, tablet TEXT NOT NULL, reported_at REAL NOT NULL,
    report TEXT NOT NULL, reports INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (centre, tablet)
);
-- The audit log and fraud alerts are append-only: the database itself refuses edits.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS fraud_no_update BEFORE UPDATE ON fraud_alerts
BEGIN SELECT RAISE(ABORT, 'fraud alerts are append-only'); END;
CREATE TRIGGER IF NOT EXISTS fraud_no_delete BEFORE DELETE ON fraud_alerts
BEGIN SELECT RAISE(ABORT, 'fraud alerts are append-only'); END;
"""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.row_factory = sqlite3.Row
    return conn


def read_only(path: Path, fn: Callable[[sqlite3.Connection], T]) -> T:
    """``fn`` on a read-only connection of its own (jury reads run in a thread: WAL
    readers never block the writer)."""
    conn = connect(path, readonly=True)
    try:
        return fn(conn)
    finally:
        conn.close()


def init_db(path: Path) -> None:
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
    finally:
        conn.close()


class _Item:
    __slots__ = ("fut", "job", "queued_at")

    def __init__(self, job: Job, fut: asyncio.Future[Any] | None) -> None:
        self.job = job
        self.fut = fut
        self.queued_at = time.monotonic()


_STOP = object()


class Writer:
    """The single writer thread. ``await writer.run(job)`` returns after the commit."""

    def __init__(
        self,
        path: Path,
        loop: asyncio.AbstractEventLoop,
        max_batch: int = 2000,
        *,
        ack_before_commit: bool = False,  # test only: see the module's docstring
    ) -> None:
        self._conn = connect(path)
        self._ack_first = ack_before_commit
        self._uncommitted = 0  # acknowledged before their commit (ack_before_commit only)
        self._loop = loop
        self._queue: queue.SimpleQueue[_Item | object] = queue.SimpleQueue()
        self._max_batch = max_batch
        self._thread = threading.Thread(target=self._run, name="vigie-sqlite-writer", daemon=True)
        self.commits = 0
        self.jobs = 0
        self._stalled_until = 0.0  # time.monotonic(); a db_stall fault commits nothing until then
        self._wake = threading.Event()  # ends a stall early (shutdown)
        self._oldest_at: float | None = None  # queued_at of the batch in hand's first job
        self._in_hand = 0  # jobs taken off the queue, not yet committed

    def start(self) -> None:
        self._thread.start()

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        fut: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Item(job, fut))
        return await fut

    def submit(self, job: Job) -> None:
        """Fire and forget (connection audit): committed with the next group."""
        self._queue.put(_Item(job, None))

    def stall(self, seconds: float) -> None:
        """The db_stall fault: commit nothing for ``seconds`` (writes wait, unacknowledged)."""
        self._stalled_until = max(self._stalled_until, time.monotonic() + seconds)

    def pending(self) -> int:
        """Writes queued or in hand, not yet committed (rises during a stall)."""
        return self._queue.qsize() + self._in_hand + self._uncommitted

    def oldest_pending_s(self) -> float:
        """Age of the oldest write not yet committed (0 when none): the queue is FIFO, so
        it is the first job of the batch in hand; everything still queued is younger."""
        since = self._oldest_at
        return 0.0 if since is None else max(0.0, time.monotonic() - since)

    async def stop(self) -> None:
        """Flush everything queued, then stop the thread."""
        self._wake.set()
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)
        self._conn.close()

    def _take(self, first: _Item | object | None) -> tuple[list[_Item], bool]:
        """``first`` and whatever else is queued (up to a batch); and whether to stop."""
        batch: list[_Item] = []
        stopping = first is _STOP
        if isinstance(first, _Item):
            batch.append(first)
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stopping = True
                continue
            assert isinstance(item, _Item)
            batch.append(item)
        return batch, stopping

    def _run(self) -> None:
        if self._ack_first:
            self._run_acking_first()
            return
        stopping = False
        while not stopping:
            batch, stopping = self._take(self._queue.get())
            if batch:
                self._oldest_at, self._in_hand = batch[0].queued_at, len(batch)
            stalled = self._stalled_until - time.monotonic()
            if stalled > 0 and not stopping:
                self._wake.wait(stalled)
            if batch:
                self._commit(batch)
                self._oldest_at, self._in_hand = None, 0

    def _commit(self, batch: list[_Item]) -> None:
        results: list[tuple[asyncio.Future[Any] | None, Any, BaseException | None]] = []
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            results = [_apply(conn, item) for item in batch]
            conn.execute("COMMIT")
        except Exception as exc:  # the commit itself failed: nobody is acknowledged
            log.exception("group commit failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            results = [(item.fut, None, exc) for item in batch]
        self.commits += 1
        self.jobs += len(batch)
        self._loop.call_soon_threadsafe(_resolve, results)

    def _run_acking_first(self) -> None:
        """Test only: answer each job once it ran, commit when no stall holds it back."""
        conn = self._conn
        stopping = False
        while not stopping:
            wait = max(self._stalled_until - time.monotonic(), 0.05) if self._uncommitted else None
            try:
                first = self._queue.get(timeout=wait)
            except queue.Empty:
                first = None
            batch, stopping = self._take(first)
            if batch:
                if not conn.in_transaction:
                    conn.execute("BEGIN IMMEDIATE")
                results = [_apply(conn, item) for item in batch]
                self._uncommitted += len(batch)
                self.jobs += len(batch)
                self._loop.call_soon_threadsafe(_resolve, results)  # before the commit
            if self._uncommitted and (stopping or time.monotonic() >= self._stalled_until):
                try:
                    conn.execute("COMMIT")
                except Exception:  # acknowledged already: this is the lie the knob tells
                    log.exception("commit after acknowledgement failed")
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                self.commits += 1
                self._uncommitted = 0


def _apply(
    conn: sqlite3.Connection, item: _Item
) -> tuple[asyncio.Future[Any] | None, Any, BaseException | None]:
    """One job in its own SAVEPOINT: a refused job never spoils its neighbours."""
    conn.execute("SAVEPOINT job")
    try:
        value = item.job(conn)
    except Exception as exc:
        conn.execute("ROLLBACK TO job")
        conn.execute("RELEASE job")
        return item.fut, None, exc
    conn.execute("RELEASE job")
    return item.fut, value, None


def _resolve(results: list[tuple[asyncio.Future[Any] | None, Any, BaseException | None]]) -> None:
    for fut, value, exc in results:
        if fut is None:
            if exc is not None:
                log.error("background write failed: %r", exc)
            continue
        if fut.done():
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)
