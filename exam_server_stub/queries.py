"""Every SQL statement of the exam server, in one place (the schema is in :mod:`.store`).

Functions take a connection and plain values and return rows or nothing: the domain
decides, these only read and write. Writes run inside the writer's transactions
(:class:`~exam_server_stub.store.Writer`), so none of them commits.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from vigie.protocol import AuditKind

Rows = Iterable[sqlite3.Row]


def audit(
    conn: sqlite3.Connection,
    ts: float,
    kind: str,
    actor: str,
    data: dict[str, Any],
    *,
    candidate_id: str | None = None,
    centre: str | None = None,
    client_ts: float | None = None,
) -> None:
    """One audit event (the table refuses updates and deletes)."""
    conn.execute(
        "INSERT INTO audit (ts, client_ts, candidate_id, centre, kind, actor, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (ts, client_ts, candidate_id, centre, kind, actor, orjson.dumps(data).decode()),
    )


ANSWER_EXPORT_SQL = (
    "SELECT a.seq, a.candidate_id, c.centre, a.unit_id, a.question_id, a.action_id, a.answer,"
    " a.final, a.client_ts, a.server_ts FROM answers a JOIN candidates c ON c.id = a.candidate_id"
    " WHERE a.seq > ? ORDER BY a.seq LIMIT ?"
)


def answers_after(conn: sqlite3.Connection, seq: int, limit: int) -> list[sqlite3.Row]:
    """Stored answers (every change) in storage order, after ``seq``: a page of the export."""
    return conn.execute(ANSWER_EXPORT_SQL, (seq, limit)).fetchall()


def save_connection_test(
    conn: sqlite3.Connection, centre: str, tablet: str, ts: float, report: bytes
) -> None:
    """A tablet's report replaces its previous one: the latest counts."""
    conn.execute(
        "INSERT INTO connection_tests (centre, tablet, reported_at, report) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (centre, tablet) DO UPDATE SET reported_at = excluded.reported_at,"
        " report = excluded.report, reports = reports + 1",
        (centre, tablet, ts, report.decode()),
    )


def connection_tests(conn: sqlite3.Connection, centre: str | None) -> list[sqlite3.Row]:
    """The latest report of every tablet (of one centre), by centre and tablet."""
    sql = "SELECT centre, tablet, reported_at, report FROM connection_tests"
    if centre is None:
        return conn.execute(sql + " ORDER BY centre, tablet").fetchall()
    return conn.execute(sql + " WHERE centre = ? ORDER BY tablet", (centre,)).fetchall()


# --- the exam at start (rehydration) -------------------------------------------------
def candidates(conn: sqlite3.Connection) -> Rows:
    return conn.execute("SELECT * FROM candidates ORDER BY rowid")


def units(conn: sqlite3.Connection) -> dict[str, sqlite3.Row]:
    return {r["id"]: r for r in conn.execute("SELECT * FROM units")}


def extra_times(conn: sqlite3.Connection) -> Rows:
    return conn.execute("SELECT * FROM extra_time ORDER BY id")


def pauses(conn: sqlite3.Connection) -> Rows:
    return conn.execute("SELECT * FROM pauses ORDER BY id")


def candidate_pauses(conn: sqlite3.Connection) -> Rows:
    return conn.execute("SELECT * FROM candidate_pauses ORDER BY id")


def answers(conn: sqlite3.Connection) -> Rows:
    """Every stored answer (every change), in storage order."""
    return conn.execute("SELECT * FROM answers ORDER BY seq")


def finishes(conn: sqlite3.Connection) -> Rows:
    return conn.execute("SELECT * FROM finishes")


def open_instructions(conn: sqlite3.Connection) -> Rows:
    """Instructions not acknowledged yet, oldest first."""
    return conn.execute("SELECT * FROM instructions WHERE acked_at IS NULL ORDER BY created_at")


# --- the candidate flow ----------------------------------------------------------------
def insert_answer(
    conn: sqlite3.Connection,
    candidate_id: str,
    action_id: str,
    unit_id: str,
    question_id: str,
    answer_json: str,
    final: bool,
    client_ts: float,
    server_ts: float,
    unlocked: str | None,
) -> None:
    conn.execute(
        "INSERT INTO answers (candidate_id, action_id, unit_id, question_id, answer,"
        " final, client_ts, server_ts, unlocked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (candidate_id, action_id, unit_id, question_id, answer_json, final, client_ts,
         server_ts, unlocked),
    )  # fmt: skip


def insert_finish(
    conn: sqlite3.Connection, candidate_id: str, unit_id: str, action_id: str, at: float
) -> None:
    conn.execute(
        "INSERT INTO finishes (candidate_id, unit_id, action_id, finished_at) VALUES (?, ?, ?, ?)",
        (candidate_id, unit_id, action_id, at),
    )


def ack_instructions(conn: sqlite3.Connection, ids: Iterable[str], at: float) -> None:
    conn.executemany(
        "UPDATE instructions SET acked_at = ? WHERE id = ? AND acked_at IS NULL",
        [(at, i) for i in ids],
    )


def insert_instructions(
    conn: sqlite3.Connection, rows: Iterable[tuple[str, str, bytes, float]]
) -> None:
    """(id, candidate id, encoded body, created at) per instruction."""
    conn.executemany(
        "INSERT INTO instructions (id, candidate_id, body, created_at) VALUES (?, ?, ?, ?)", rows
    )


# --- the units -------------------------------------------------------------------------
def set_launched(conn: sqlite3.Connection, unit_id: str, at: float, deadline: float) -> None:
    conn.execute(
        "UPDATE units SET launched_at = ?, deadline = ? WHERE id = ?", (at, deadline, unit_id)
    )


def set_closed(conn: sqlite3.Connection, unit_id: str, at: float) -> None:
    conn.execute("UPDATE units SET closed_at = ? WHERE id = ?", (at, unit_id))


def insert_extra_times(
    conn: sqlite3.Connection,
    rows: Iterable[tuple[str, str | None, str | None, float, str, str, float]],
) -> None:
    """(unit, candidate or None, centre or None, seconds, reason, actor, ts) per grant."""
    conn.executemany(
        "INSERT INTO extra_time (unit_id, candidate_id, centre, seconds, reason, actor, ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


# --- the jury's changes ----------------------------------------------------------------
def motive(reason: str, category: str | None) -> dict[str, Any]:
    """An action's reason as the audit keeps it (its category only when one was given)."""
    return {"reason": reason} if category is None else {"reason": reason, "category": category}


def insert_pause(conn: sqlite3.Connection, centre: str, at: float) -> None:
    conn.execute("INSERT INTO pauses (centre, paused_at) VALUES (?, ?)", (centre, at))


def end_pause(conn: sqlite3.Connection, centre: str, at: float) -> None:
    conn.execute(
        "UPDATE pauses SET resumed_at = ? WHERE centre = ? AND resumed_at IS NULL", (at, centre)
    )


def insert_candidate_pause(conn: sqlite3.Connection, candidate_id: str, at: float) -> None:
    conn.execute(
        "INSERT INTO candidate_pauses (candidate_id, paused_at) VALUES (?, ?)", (candidate_id, at)
    )


def end_candidate_pause(conn: sqlite3.Connection, candidate_id: str, at: float) -> None:
    conn.execute(
        "UPDATE candidate_pauses SET resumed_at = ? WHERE candidate_id = ? AND resumed_at IS NULL",
        (at, candidate_id),
    )


def insert_fraud_alert(
    conn: sqlite3.Connection,
    ts: float,
    candidate_id: str,
    centre: str,
    method: str,
    path: str,
    user_agent: str,
) -> None:
    conn.execute(
        "INSERT INTO fraud_alerts (ts, candidate_id, centre, method, path, user_agent)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (ts, candidate_id, centre, method, path, user_agent),
    )


# --- first start and its settings ------------------------------------------------------
def is_bootstrapped(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM meta WHERE key = 'secret'").fetchone() is not None


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    return {row["key"]: row["value"] for row in conn.execute("SELECT key, value FROM meta")}


def insert_meta(conn: sqlite3.Connection, items: Iterable[tuple[str, str]]) -> None:
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", items)


def keep_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Stored once: a value already there stays."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))


def insert_candidates(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str]]) -> None:
    """(id, centre, birth date, access code) per candidate."""
    conn.executemany(
        "INSERT INTO candidates (id, centre, birth_date, access_code) VALUES (?, ?, ?, ?)", rows
    )


def insert_units(conn: sqlite3.Connection, rows: Iterable[tuple[str, bytes, bytes]]) -> None:
    """(id, key, nonce) per unit."""
    conn.executemany("INSERT INTO units (id, key, nonce) VALUES (?, ?, ?)", rows)


def insert_jury_accounts(
    conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str | None, bytes, bytes]]
) -> None:
    """(username, role, centre, salt, hash) per account."""
    conn.executemany(
        "INSERT INTO jury_accounts (username, role, centre, salt, hash) VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def jury_account(conn: sqlite3.Connection, username: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM jury_accounts WHERE username = ?", (username,)
    ).fetchone()
    return row


def candidates_per_centre(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT centre, COUNT(*) FROM candidates GROUP BY centre")
    return {str(row[0]): int(row[1]) for row in rows}


def any_unit_launched(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM units WHERE launched_at IS NOT NULL").fetchone() is not None


# --- reading the audit back ------------------------------------------------------------
_CONNECTION_KINDS = (AuditKind.CONNECT, AuditKind.DISCONNECT, AuditKind.LAUNCH, AuditKind.CLOSE)


def connection_events(conn: sqlite3.Connection) -> Rows:
    """(ts, kind, candidate id, centre, data) of every connect, disconnect, launch and close,
    in order (a partial index keeps this off the answers' rows, most of the audit)."""
    return conn.execute(
        "SELECT ts, kind, candidate_id, centre, data FROM audit"
        " WHERE kind IN (?, ?, ?, ?) ORDER BY seq",
        [k.value for k in _CONNECTION_KINDS],
    )


def last_audit_ts(conn: sqlite3.Connection) -> float | None:
    """The last moment the server is known to have been alive."""
    row = conn.execute("SELECT ts FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else float(row[0])


def audit_of_kinds(conn: sqlite3.Connection, kinds: Iterable[AuditKind]) -> Rows:
    """(kind, data) of every audit event of these kinds, in order."""
    wanted = [k.value for k in kinds]
    marks = ", ".join("?" * len(wanted))
    return conn.execute(
        f"SELECT kind, data FROM audit WHERE kind IN ({marks}) ORDER BY seq", wanted
    )


def candidate_audit(conn: sqlite3.Connection, candidate_id: str) -> Rows:
    """A candidate's own events and the national and centre actions (no candidate), in order."""
    return conn.execute(
        "SELECT seq, ts, client_ts, kind, actor, centre, candidate_id, data FROM audit"
        " WHERE candidate_id = ? OR candidate_id IS NULL ORDER BY seq",
        (candidate_id,),
    )


def jury_events(conn: sqlite3.Connection, kinds: Iterable[AuditKind], centre: str | None) -> Rows:
    """Audit events of these kinds (a centre's, and the national ones), in order."""
    args: list[Any] = [k.value for k in kinds]
    sql = "SELECT seq, ts, kind, actor, centre, candidate_id, data FROM audit WHERE kind IN ({})"
    sql = sql.format(", ".join("?" * len(args)))
    if centre is not None:
        sql += " AND (centre = ? OR centre IS NULL)"
        args.append(centre)
    return conn.execute(sql + " ORDER BY seq", args)


def finish_times(conn: sqlite3.Connection) -> dict[tuple[str, str], float]:
    """(candidate, unit) -> when the candidate finished it."""
    rows = conn.execute("SELECT candidate_id, unit_id, finished_at FROM finishes")
    return {(r[0], r[1]): float(r[2]) for r in rows}


def fraud_alerts(conn: sqlite3.Connection, since: int, centre: str | None) -> Rows:
    sql = "SELECT * FROM fraud_alerts WHERE id > ?"
    args: list[Any] = [since]
    if centre is not None:
        sql += " AND centre = ?"
        args.append(centre)
    return conn.execute(sql + " ORDER BY id", args)


def extra_time_grants(conn: sqlite3.Connection, centre: str | None) -> Rows:
    if centre is None:
        return conn.execute("SELECT * FROM extra_time ORDER BY id")
    return conn.execute("SELECT * FROM extra_time WHERE centre = ? ORDER BY id", (centre,))
