"""Extra time by kind: planned (tiers-temps) and incident, kept apart from the jury's grants.

* **Planned** extra time comes from the roster: a share of the candidates get a share of
  each unit's duration (``vigie.demo.planned_ratio``). The server applies it at the launch
  and writes what it applied into the launch's audit row, so that a restart finds exactly
  what the tablets were told, and a centre that "forgot" it (the 2019 incident, the
  ``drop_planned_extra_time`` fault) stays visible: the roster says what is due, the launch
  says what was applied, and the difference is an alert and a gauge per centre.
* **Incident** extra time is the time a candidate was disconnected during the unit,
  proposed rounded up to the minute and granted by the jury in one action; each grant is
  an ``incident_time`` audit row per centre holding what it added per candidate, so that
  a second grant adds only the difference.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from prometheus_client import Gauge

from vigie import demo
from vigie.protocol import AuditKind

from . import queries
from .state import Cand

INCIDENT_STEP_S = 60.0  # proposals are rounded up to the minute, as a jury grants time
INCIDENT_MIN_S = 1.0  # below this, a disconnection is a blip: nothing is proposed
MISSING_TOLERANCE_S = 0.5  # float noise between a due and an applied planned time
TIERS_META = "tiers_temps"  # meta key: the roster's {share, ratio}, kept with the roster
PLANNED_KEY, DROPPED_KEY = "planned_extra_time", "planned_dropped"  # in the launch audit row


def incident_proposal(disconnected_s: float) -> float:
    if disconnected_s < INCIDENT_MIN_S:
        return 0.0
    return math.ceil(disconnected_s / INCIDENT_STEP_S) * INCIDENT_STEP_S


def roster_tiers_temps(
    conn: sqlite3.Connection, meta: Mapping[str, str], share: float, ratio: float
) -> tuple[float, float]:
    """The roster's tiers-temps, stored with it on the first start (a restart keeps it).

    A database made before planned extra time existed, with a unit already launched,
    keeps none: its launches applied none, and an alert for all of them would be false.
    """
    stored = meta.get(TIERS_META)
    if stored is not None:
        doc = orjson.loads(stored)
        return float(doc["share"]), float(doc["ratio"])
    if queries.any_unit_launched(conn):
        share = 0.0
    doc = {"share": share, "ratio": ratio}
    queries.keep_meta(conn, TIERS_META, orjson.dumps(doc).decode())
    return share, ratio


def assign_planned(cands: Iterable[Cand], seed: int, share: float, ratio: float) -> None:
    for c in cands:
        c.planned_ratio = demo.planned_ratio(seed, c.id, share, ratio)


def replay_extra(conn: sqlite3.Connection, cands: Mapping[str, Cand]) -> None:
    """Planned time applied at each launch, incident time granted: as before a restart."""
    for kind, data in queries.audit_of_kinds(conn, (AuditKind.LAUNCH, AuditKind.INCIDENT_TIME)):
        doc = orjson.loads(data)
        uid = doc["unit_id"]
        if kind == AuditKind.LAUNCH:
            for c in cands.values():
                c.planned.pop(uid, None)
            for cid, seconds in doc.get(PLANNED_KEY, {}).items():
                if cid in cands:
                    cands[cid].planned[uid] = float(seconds)
        else:
            for cid, seconds in doc["seconds"].items():
                who = cands.get(cid)
                if who is not None:
                    who.incident[uid] = who.incident.get(uid, 0.0) + float(seconds)


class PlannedMissing:
    """Candidates whose deadline lacks their planned time, per centre, and the gauge of it."""

    def __init__(self, gauge: Gauge, centres: Iterable[str]) -> None:
        self.gauge = gauge  # Metrics.planned_extra_missing: one registration per registry
        self.by_centre: dict[str, set[str]] = {}
        for code in centres:  # a 0 for every centre: an alert rule reads a value, not absence
            self.by_centre[code] = set()
            self.gauge.labels(code).set(0)

    def mark(self, c: Cand, missing: bool) -> None:
        ids = self.by_centre.setdefault(c.centre, set())
        if missing == (c.id in ids):
            return
        if missing:
            ids.add(c.id)
        else:
            ids.discard(c.id)
        self.gauge.labels(c.centre).set(len(ids))

    def doc(self) -> dict[str, Any]:
        return {code: sorted(ids) for code, ids in self.by_centre.items() if ids}
