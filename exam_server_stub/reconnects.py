"""Connection history after a restart: reconnects and time disconnected, from the audit.

Tablets' connections are audited anyway (``connect`` / ``disconnect`` rows, next
to the units' ``launch`` / ``close``), so rather than writing counters on every
connection we replay those rows at startup with the same rules as
:meth:`Exam.attach` and :meth:`Exam.detach`. A partial index keeps the replay off
the answers' rows, which are most of the audit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

import orjson

from . import queries
from .state import Cand


def replay_connections(conn: sqlite3.Connection, cands: Mapping[str, Cand]) -> None:
    """Set ``was_connected``, ``reconnects``, ``disc_total``, ``disc_since`` as before a crash."""
    live: str | None = None  # the unit running at this point of the log
    launched_at: float | None = None
    connected: set[str] = set()
    for ts, kind, cid, _centre, data in queries.connection_events(conn):
        if kind == "launch":
            live, launched_at = orjson.loads(data)["unit_id"], ts
            for each in cands.values():  # a new unit starts every history afresh
                each.was_connected = each.id in connected
                each.disc_since, each.disc_total, each.reconnects = None, 0.0, 0
            continue
        if kind == "close":
            live = None
            continue
        c = cands.get(cid)
        if c is None:
            continue
        if kind == "connect":
            connected.add(c.id)
            if live is not None:
                count_attach(c, ts)
        else:
            connected.discard(c.id)
            if live is not None and not _finished_by(c, live, ts):
                last_hb = orjson.loads(data).get("last_hb")
                c.disc_since = disconnected_since(last_hb, launched_at, ts)
    if live is None or not connected:
        return
    # Sockets still open when the process died (kill -9 wrote no disconnect): they
    # dropped with it. The last audit row is the last moment the server is known alive.
    last = queries.last_audit_ts(conn)
    if last is None:
        return
    for cid in connected:
        c = cands[cid]
        if not _finished_by(c, live, last):
            c.disc_since = last


def disconnected_since(last_hb: float | None, launched_at: float | None, now: float) -> float:
    """When a dropped tablet was last known alive: its last heartbeat, within the unit.

    A socket closed for silence is closed ``lost_after_s`` after the last heartbeat;
    counting from the close would credit back that much too little extra time.
    """
    since = now if last_hb is None else min(last_hb, now)
    return max(since, launched_at) if launched_at is not None else since


def count_attach(c: Cand, ts: float) -> None:
    """A socket attached at ``ts`` during the live unit: a reconnect if it was here before,
    and its time away ends (the server at run time and the restart replay share this)."""
    if c.was_connected:
        c.reconnects += 1
    c.was_connected = True
    if c.disc_since is not None:
        c.disc_total += ts - c.disc_since
        c.disc_since = None


def _finished_by(c: Cand, unit_id: str, ts: float) -> bool:
    finished_at = c.finished.get(unit_id)
    return finished_at is not None and finished_at <= ts
