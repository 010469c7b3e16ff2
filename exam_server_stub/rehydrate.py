"""The exam as the database left it: what a restart (or a ``kill -9``) reads back.

Everything the server holds in memory is rebuilt from committed rows only, in the order
it was written: candidates, units and their keys, extra time, pauses, answers and their
action ids (so re-sends after a restart are recognised), finishes, instructions not yet
acknowledged, connection histories and planned extra time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import orjson

from vigie import demo
from vigie.wire.http import FinishResult
from vigie.wire.ws import Instruction

from . import extra_time as extra
from . import queries
from .bootstrap import read_meta
from .flow import ANSWER_OP, FINISH_OP, answer_print, answer_result
from .package import build_package
from .reconnects import replay_connections
from .state import AnswerRec, Cand, UnitRt
from .store import connect

if TYPE_CHECKING:
    from .exam import Exam

_INSTRUCTION = msgspec.json.Decoder(Instruction)


def load(exam: Exam, path: Path) -> None:
    """Fill ``exam`` (just built, empty) from the database at ``path``."""
    conn = connect(path)
    try:
        meta = read_meta(conn)
        exam.secret = bytes.fromhex(meta["secret"])
        exam.seed = int(meta["seed"])
        session = demo.generate_session(exam.seed)
        exam.tiers_temps = extra.roster_tiers_temps(
            conn,
            meta,
            exam.settings.tiers_temps_share,
            exam.settings.tiers_temps_ratio,
        )
        for row in queries.candidates(conn):
            c = Cand(row["id"], row["centre"], row["birth_date"], row["access_code"])
            exam.cands[c.id] = c
            exam.by_centre.setdefault(c.centre, []).append(c)
            exam.counts.add(c)
        rows = queries.units(conn)
        added = [u for u in session.units if u.id not in rows]
        if added:
            # A database made before these units joined the session (the backups):
            # they get their keys now, as the bootstrap would have given them.
            queries.insert_units(conn, [(u.id, os.urandom(32), os.urandom(12)) for u in added])
            rows = queries.units(conn)
        for unit in session.units:
            r = rows[unit.id]
            body, sha = build_package(unit, r["key"], r["nonce"])
            exam.units[unit.id] = UnitRt(
                unit, r["key"], body, sha, r["launched_at"], r["deadline"], r["closed_at"]
            )
        for r in queries.extra_times(conn):
            if r["candidate_id"] is not None:
                c = exam.cands[r["candidate_id"]]
                c.extra[r["unit_id"]] = c.extra.get(r["unit_id"], 0.0) + r["seconds"]
            else:
                k = (r["centre"], r["unit_id"])
                exam.centre_extra[k] = exam.centre_extra.get(k, 0.0) + r["seconds"]
        for r in queries.pauses(conn):
            exam.pauses.setdefault(r["centre"], []).append([r["paused_at"], r["resumed_at"]])
        for r in queries.candidate_pauses(conn):
            spans = exam.cand_pauses.setdefault(r["candidate_id"], [])
            spans.append([r["paused_at"], r["resumed_at"]])
        for r in queries.answers(conn):
            c = exam.cands[r["candidate_id"]]
            answer = orjson.loads(r["answer"])
            c.answers.setdefault(r["unit_id"], {})[r["question_id"]] = AnswerRec(
                answer, bool(r["final"]), r["server_ts"]
            )
            if c.last_answer is None or r["server_ts"] >= c.last_answer[1]:
                c.last_answer = (r["unit_id"], r["server_ts"])
            c.actions[(ANSWER_OP, r["action_id"])] = (
                answer_print(r["unit_id"], r["question_id"], answer, bool(r["final"])),
                answer_result(
                    r["action_id"],
                    r["question_id"],
                    r["server_ts"],
                    r["client_ts"],
                    r["unlocked"],
                ),
            )
        for r in queries.finishes(conn):
            c = exam.cands[r["candidate_id"]]
            c.finished[r["unit_id"]] = r["finished_at"]
            c.actions[(FINISH_OP, r["action_id"])] = (
                r["unit_id"],
                FinishResult(unit_id=r["unit_id"], finished_at=r["finished_at"]),
            )
        for r in queries.open_instructions(conn):
            exam.cands[r["candidate_id"]].instructions[r["id"]] = _INSTRUCTION.decode(r["body"])
        replay_connections(conn, exam.cands)
        extra.assign_planned(exam.cands.values(), exam.seed, *exam.tiers_temps)
        extra.replay_extra(conn, exam.cands)
    finally:
        conn.close()
    now = exam.clock()
    u = exam.current_unit()
    if u is not None and u.closed_at is not None:
        exam.overtime = {c.id for c in exam.cands.values() if exam.beyond(c, u, now)}
    for c in exam.cands.values():
        exam.refresh(c, now)
