"""Read what was sat from an exam server's SQLite database (read-only, no server needed).

The database holds everything: the seed (the session and its keys are regenerated
from it), the roster with birth dates, the units' launch and close times, every
stored answer (the last one per question counts: highest ``seq``), the finishes and,
in the append-only audit, the jury's decisions (``neutralise``, ``replace_unit``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from vigie.demo import Session, generate_session

from .keys import session_keys
from .results import Decisions, Neutralisation, Person, Replacement, Sitting, corrected_units
from .results.table import AnswerTable

DECISION_KINDS = ("neutralise", "replace_unit")
# Literal, not bound: SQLite uses the partial index ``audit_decisions`` only for this text.
DECISIONS_WHERE = "kind IN ('neutralise', 'replace_unit')"


class CorrectionRefused(Exception):
    """Nothing to correct (yet): the API answers 409 (or 404 for an unknown unit)."""


class UnknownUnit(CorrectionRefused):
    pass


class NotClosed(CorrectionRefused):
    """A unit to correct is not closed: its key stays sealed."""


def open_readonly(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise FileNotFoundError(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def read_decisions(conn: sqlite3.Connection) -> Decisions:
    """The jury's decisions in the order they were taken (a later one on the same target wins)."""
    neutralised: dict[str, Neutralisation] = {}
    replacements: dict[str, Replacement] = {}
    rows = conn.execute(
        f"SELECT kind, actor, ts, data FROM audit WHERE {DECISIONS_WHERE} ORDER BY seq"
    )
    for kind, actor, ts, data in rows:
        d = orjson.loads(data)
        if kind == "neutralise":
            neutralised[d["question_id"]] = Neutralisation(d["question_id"], d["reason"], actor, ts)
        else:
            replacements[d["unit_id"]] = Replacement(
                d["unit_id"], d["backup_id"], d["reason"], actor, ts
            )
    return Decisions(
        tuple(sorted(neutralised.values(), key=lambda n: n.question_id)),
        tuple(sorted(replacements.values(), key=lambda r: r.unit_id)),
    )


def unit_states(conn: sqlite3.Connection) -> dict[str, tuple[float | None, float | None]]:
    return {
        r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, launched_at, closed_at FROM units")
    }


def default_units(
    session: Session, states: dict[str, tuple[float | None, float | None]]
) -> list[str]:
    """Every closed unit, in the session's order."""
    return [u.id for u in session.units if states.get(u.id, (None, None))[1] is not None]


def version(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """Changes whenever a correction could: an answer, a decision, a close (cheap: indexes)."""
    answers = conn.execute("SELECT MAX(seq) FROM answers").fetchone()[0]
    decisions = conn.execute(f"SELECT MAX(seq) FROM audit WHERE {DECISIONS_WHERE}").fetchone()[0]
    closes = tuple(conn.execute("SELECT id, closed_at FROM units ORDER BY id"))
    return answers, decisions, closes


def read_sitting(path: Path, units: Sequence[str] | None = None) -> Sitting:
    conn = open_readonly(path)
    try:
        return _read(conn, path, units)
    finally:
        conn.close()


def _read(conn: sqlite3.Connection, path: Path, units: Sequence[str] | None) -> Sitting:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    seed = int(meta["seed"])
    session = generate_session(seed)
    states = unit_states(conn)
    decisions = read_decisions(conn)
    known = {u.id for u in session.units}
    wanted = list(units) if units is not None else default_units(session, states)
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise UnknownUnit(f"unknown unit(s): {', '.join(unknown)}")
    if not wanted:
        raise NotClosed("no unit is closed yet: nothing to correct")
    scored = [u.id for u in corrected_units(session, wanted, decisions)]
    still_open = [u for u in scored if states.get(u, (None, None))[1] is None]
    if still_open:
        raise NotClosed(
            f"unit(s) not closed: {', '.join(still_open)} (keys stay sealed until the close)"
        )
    people = [
        Person(r[0], r[1], r[2])
        for r in conn.execute("SELECT id, centre, birth_date FROM candidates ORDER BY rowid")
    ]
    present: set[tuple[str, str]] = set()
    marks = ", ".join("?" for _ in scored)
    by_id = {u.id: u for u in session.units}
    answers = AnswerTable(
        [p.candidate_id for p in people], (q.id for u in scored for q in by_id[u].questions)
    )
    # Table order is seq order (the rowid): the last stored answer to a question wins.
    # Three columns only, no sort: this read is most of a correction's cost.
    rows = answers.load(
        conn.execute(
            f"SELECT candidate_id, question_id, answer FROM answers WHERE unit_id IN ({marks})",
            scored,
        )
    )
    last_seq = conn.execute("SELECT MAX(seq) FROM answers").fetchone()[0] or 0
    for cid, uid in conn.execute(
        f"SELECT candidate_id, unit_id FROM finishes WHERE unit_id IN ({marks})", scored
    ):
        present.add((cid, uid))
    source: dict[str, Any] = {
        "database": path.name,
        "seed": seed,
        "answer_rows": rows,
        "last_answer_seq": last_seq,
        "closed_at": {u: states[u][1] for u in scored},
    }
    return Sitting(
        session=session,
        keys=session_keys(session),
        people=people,
        answers=answers,
        present=frozenset(present),
        units=tuple(wanted),
        decisions=decisions,
        source=source,
    )
