"""The audit log is append-only in the database itself; the writer isolates refused jobs."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.store import Writer, init_db


def test_audit_refuses_update_and_delete(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    init_db(db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO audit (ts, kind, actor, data) VALUES (1, 'login', 'candidate', '{}')"
        )
    conn = sqlite3.connect(db)
    for sql in ("UPDATE audit SET kind = 'x'", "DELETE FROM audit"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()


async def test_group_commit_isolates_a_failing_job(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite3"
    init_db(db)
    writer = Writer(db, asyncio.get_running_loop())
    writer.start()

    def ok(n: int) -> Callable[[sqlite3.Connection], int]:
        return lambda conn: (
            conn.execute("INSERT INTO meta (key, value) VALUES (?, 'v')", (f"k{n}",)).rowcount
        )

    def bad(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('half', 'written')")
        raise ValueError("refused")

    results: list[Any] = await asyncio.gather(
        *(writer.run(ok(n)) for n in range(50)),
        writer.run(bad),
        return_exceptions=True,
    )
    await writer.stop()
    assert results[:50] == [1] * 50 and isinstance(results[50], ValueError)
    with sqlite3.connect(db) as conn:
        keys = {k for (k,) in conn.execute("SELECT key FROM meta")}
    assert "half" not in keys and len(keys) == 50
    assert writer.commits < 51  # grouped


async def test_ack_before_commit_answers_during_a_stall_what_it_has_not_committed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "u.sqlite3"
    init_db(db)
    writer = Writer(db, asyncio.get_running_loop(), ack_before_commit=True)
    writer.start()
    writer.stall(30.0)

    def put(n: int) -> Callable[[sqlite3.Connection], int]:
        return lambda conn: (
            conn.execute("INSERT INTO meta (key, value) VALUES (?, 'v')", (f"k{n}",)).rowcount
        )

    # acknowledged at once, although the stall commits nothing for 30 s
    results = await asyncio.wait_for(asyncio.gather(*(writer.run(put(n)) for n in range(20))), 5)
    assert results == [1] * 20 and writer.pending() == 20
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as reader:
        assert reader.execute("SELECT count(*) FROM meta").fetchone()[0] == 0
    await writer.stop()  # a clean stop commits them; a kill -9 here would have lost them
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM meta").fetchone()[0] == 20


async def test_ack_before_commit_commits_at_once_without_a_stall(tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite3"
    init_db(db)
    writer = Writer(db, asyncio.get_running_loop(), ack_before_commit=True)
    writer.start()
    await writer.run(lambda conn: conn.execute("INSERT INTO meta VALUES ('a', 'b')"))
    for _ in range(100):  # the commit follows the acknowledgement (bounded wait)
        if writer.pending() == 0:
            break
        await asyncio.sleep(0.02)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as reader:
        assert reader.execute("SELECT count(*) FROM meta").fetchone()[0] == 1
    await writer.stop()
