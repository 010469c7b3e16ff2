"""Incidents as episodes, derived from the audit's connection rows.

The procès-verbal must list every disconnection of the unit, including those that
ended long before it is written: who, where, which unit, from when to when, for
how long and why. The audit already holds ``connect`` / ``disconnect`` rows next
to ``launch`` / ``close`` (the restart replay reads the same rows through the same
partial index), so episodes are rebuilt from them on demand instead of being kept.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from . import queries
from .reconnects import disconnected_since


def episodes(conn: sqlite3.Connection, centre: str | None, now: float) -> list[dict[str, Any]]:
    """Every disconnection during a unit, oldest first.

    ``end`` is the reconnection; ``None`` with ``ongoing`` when the tablet is still
    away during the live unit, or with ``unfinished`` when the unit closed first
    (the duration then stops at the close). A disconnection after the candidate
    finished the unit is the tablet going home, not an incident.
    """
    finished = queries.finish_times(conn)
    out: list[dict[str, Any]] = []
    live: str | None = None
    launched_at: float | None = None
    open_: dict[str, dict[str, Any]] = {}
    for ts, kind, cid, where, data in queries.connection_events(conn):
        if kind == "launch":
            live, launched_at = orjson.loads(data)["unit_id"], ts
            open_ = {}
            continue
        if kind == "close":
            for ep in open_.values():
                ep.update(unfinished=True, duration_s=max(0.0, ts - ep["start"]))
            live, open_ = None, {}
            continue
        if live is None or cid is None or (centre is not None and where != centre):
            continue
        if kind == "disconnect":
            done = finished.get((cid, live))
            if done is not None and done <= ts:
                continue
            doc = orjson.loads(data)
            ep = {
                "candidate_id": cid,
                "centre": where,
                "unit_id": live,
                "start": disconnected_since(doc.get("last_hb"), launched_at, ts),
                "end": None,
                "duration_s": None,
                "cause": doc.get("reason"),
                "close_code": doc.get("code"),
                "ongoing": False,
                "unfinished": False,
            }
            open_[cid] = ep
            out.append(ep)
        elif kind == "connect":
            back = open_.pop(cid, None)
            if back is not None:
                back.update(end=ts, duration_s=max(0.0, ts - back["start"]))
    for ep in open_.values():
        ep.update(ongoing=True, duration_s=max(0.0, now - ep["start"]))
    return out
