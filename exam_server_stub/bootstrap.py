"""First start of a database (roster, secrets, unit keys, jury accounts) and loading it back.

Everything needed to resume after ``kill -9`` lives in the database; the demo
session itself is regenerated from the seed stored there, so a restarted server
serves byte-identical packages (same key, same nonce) to tablets that already
pre-downloaded them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from vigie import demo
from vigie.centres import Centre
from vigie.protocol import JuryRole

from . import queries
from .store import connect, init_db

# scrypt for the few jury accounts only (candidates use HMAC access codes: 9,800 logins
# in a few minutes must stay cheap). Cost kept modest: one hash per distinct password.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def hash_password(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)


def check_password(password: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(hash_password(password, salt), expected)


def bootstrap(path: Path, counts: dict[str, int], seed: int, centres: Sequence[Centre]) -> None:
    """Create the database on first start; leave an existing one as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    init_db(path)
    conn = connect(path)
    try:
        if queries.is_bootstrapped(conn):
            return
        known = {c.code for c in centres}
        unknown = sorted(set(counts) - known)
        if unknown:
            raise ValueError(f"unknown centre codes in the demo counts: {', '.join(unknown)}")
        session = demo.generate_session(seed)
        conn.execute("BEGIN IMMEDIATE")
        queries.insert_meta(conn, [("secret", secrets.token_hex(32)), ("seed", str(seed))])
        queries.insert_candidates(
            conn,
            [
                (c.candidate_id, c.centre, c.birth_date, c.access_code)
                for c in demo.roster(counts, seed)
            ],
        )
        queries.insert_units(conn, [(u.id, os.urandom(32), os.urandom(12)) for u in session.units])
        queries.insert_jury_accounts(conn, _jury_accounts(centres))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def _jury_accounts(centres: Sequence[Centre]) -> list[tuple[str, str, str | None, bytes, bytes]]:
    hashes: dict[str, tuple[bytes, bytes]] = {}

    def hashed(password: str) -> tuple[bytes, bytes]:
        if password not in hashes:
            salt = os.urandom(16)
            hashes[password] = (salt, hash_password(password, salt))
        return hashes[password]

    rows: list[tuple[str, str, str | None, bytes, bytes]] = [
        ("national", JuryRole.NATIONAL.value, None, *hashed("national-demo")),
        ("observer", JuryRole.OBSERVER.value, None, *hashed("observer-demo")),
    ]
    rows += [
        (f"centre-{c.code}", JuryRole.CENTRE.value, c.code, *hashed("centre-demo")) for c in centres
    ]
    return rows


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return queries.meta(conn)


def stored_roster(path: Path) -> tuple[int, dict[str, int]] | None:
    """The seed and candidates per centre of an existing database; None for a new one."""
    if not path.is_file():
        return None
    conn = connect(path, readonly=True)
    try:
        try:
            meta = read_meta(conn)
        except sqlite3.OperationalError:  # an empty file: no schema yet
            return None
        if "seed" not in meta:
            return None
        return int(meta["seed"]), queries.candidates_per_centre(conn)
    finally:
        conn.close()
