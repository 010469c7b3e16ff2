"""Correct and rank a full session at national scale, against a straightforward scorer.

Builds (once, then reuses) a real server database: N candidates (default 12,000)
who sat every unit of the session (about 330 questions), each with a skill: a
share of the answers comes from the keys, the rest is a plausible wrong answer;
ZAP points differ per candidate; about 5 % of the questions were answered twice
(the last answer counts). Then, timed with perf_counter in the same run:

* ``vigie correct``'s path: read the database, score (one score per distinct
  answer to a question), rank;
* a straightforward per-answer scorer: every answer row parsed and scored, totals
  per candidate, the same sort.

It checks that both give the same totals, prints both times and their ratio.

    .venv/bin/python bench/correction.py [--candidates 12000] [--db PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from exam_server_stub.bootstrap import bootstrap
from vigie.centres import default_centres
from vigie.correction.keys import AnswerKey, session_keys
from vigie.correction.results import correct
from vigie.correction.rules import load_rules
from vigie.correction.scoring import score
from vigie.correction.source import read_sitting
from vigie.demo import Question, demo_counts, generate_session
from vigie.protocol import QuestionFormat

SEED = 2022


def right(q: Question, k: AnswerKey, rng: random.Random) -> dict[str, object]:
    if q.format is QuestionFormat.ZAP:
        return {
            "points": [
                [round(rng.uniform(z[0], z[2]), 3), round(rng.uniform(z[1], z[3]), 3)]
                for z in k.zones
            ]
        }
    if q.format is QuestionFormat.QROC:
        return {"text": rng.choice(k.accepted)}
    if q.format is QuestionFormat.TCS:
        return {"scale": rng.choice(k.panel)}
    return {"choices": list(k.right)}


def wrong(q: Question, k: AnswerKey, rng: random.Random) -> dict[str, object]:
    if q.format is QuestionFormat.ZAP:
        return {"points": [[round(rng.random(), 3), round(rng.random(), 3)]]}
    if q.format is QuestionFormat.QROC:
        return {"text": rng.choice(("je ne sais pas", "embolie", "sepsis sévère", "asthme aigu"))}
    if q.format is QuestionFormat.TCS:
        return {"scale": rng.randint(-2, 2)}
    n = len(q.propositions)
    count = 1 if q.format is QuestionFormat.QRU else (q.expected_count or rng.randint(1, n))
    return {"choices": sorted(rng.sample(range(n), count))}


def build(db: Path, candidates: int) -> None:
    t0 = time.perf_counter()
    bootstrap(db, demo_counts(candidates), SEED, default_centres())
    session = generate_session(SEED)
    sat = [u for u in session.units if not u.backup]  # the five units of the session
    keys = session_keys(session)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    ids = [r[0] for r in conn.execute("SELECT id FROM candidates ORDER BY rowid")]
    rng = random.Random(SEED)
    conn.execute("BEGIN")
    seq = 0
    for cid in ids:
        skill = min(0.95, max(0.2, rng.gauss(0.62, 0.1)))
        rows = []
        for u in sat:
            for q in u.questions:
                k = keys[q.id]
                if rng.random() < 0.05:  # answered twice: the first one is superseded
                    seq += 1
                    rows.append(
                        (cid, f"a{seq}", u.id, q.id, json.dumps(wrong(q, k, rng)), 0, 0.0, 0.0)
                    )
                seq += 1
                ans = right(q, k, rng) if rng.random() < skill else wrong(q, k, rng)
                rows.append((cid, f"a{seq}", u.id, q.id, json.dumps(ans), 1, 0.0, 0.0))
        conn.executemany(
            "INSERT INTO answers (candidate_id, action_id, unit_id, question_id, answer, final,"
            " client_ts, server_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    marks = ", ".join("?" * len(sat))
    conn.execute(
        f"UPDATE units SET launched_at = 1, deadline = 2, closed_at = 2 WHERE id IN ({marks})",
        [u.id for u in sat],
    )
    conn.execute("COMMIT")
    conn.close()
    print(
        f"built {db} ({candidates} candidates, {seq} answer rows) in {time.perf_counter() - t0:.1f} s"
    )


def straightforward(db: Path) -> dict[str, int]:
    """Every stored row parsed and scored; the last one per question replaces the earlier."""
    rules = load_rules()
    session = generate_session(SEED)
    keys = session_keys(session)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    points: dict[tuple[str, str], int] = {}
    for cid, qid, text in conn.execute(
        "SELECT candidate_id, question_id, answer FROM answers ORDER BY seq"
    ):
        k = keys[qid]
        points[(cid, qid)] = score(k, json.loads(text), rules).credit * k.weight
    totals: dict[str, int] = {r[0]: 0 for r in conn.execute("SELECT id FROM candidates")}
    for (cid, _), p in points.items():
        totals[cid] += p
    conn.close()
    sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--candidates", type=int, default=12_000)
    ap.add_argument("--db", type=Path, default=None, help="reuse or build this database")
    args = ap.parse_args()
    db = (
        args.db or Path(tempfile.gettempdir()) / f"vigie-bench-correction-{args.candidates}.sqlite3"
    )
    if not db.exists():
        build(db, args.candidates)
    rules = load_rules()

    gc.disable()  # as `vigie correct` does, for both: millions of strings, no cycle
    t0, c0 = time.perf_counter(), time.process_time()
    sitting = read_sitting(db)
    t1 = time.perf_counter()
    results = correct(sitting, rules)
    t2, c2 = time.perf_counter(), time.process_time()
    plain = straightforward(db)
    t3, c3 = time.perf_counter(), time.process_time()
    gc.enable()

    assert {c.candidate_id: c.total for c in results.candidates} == plain, (
        "the two scorers disagree"
    )
    questions = sum(len(u.questions) for u in results.units)
    fast, slow = t2 - t0, t3 - t2
    print(
        f"{len(results.candidates)} candidates x {questions} questions, {sitting.source['answer_rows']} answer rows"
    )
    print(
        f"vigie correct path: {fast:.2f} s (read {t1 - t0:.2f} s, score+rank {t2 - t1:.2f} s;"
        f" CPU {c2 - c0:.2f} s)"
    )
    print(f"straightforward per-answer scorer: {slow:.2f} s (CPU {c3 - c2:.2f} s)")
    print(f"ratio {slow / fast:.1f}x; same totals for every candidate")
    marks = sorted(float(results.global_mark(c)) for c in results.candidates)
    print(
        f"global marks: min {marks[0]:.2f}, median {marks[len(marks) // 2]:.2f}, max {marks[-1]:.2f};"
        f" ties decided by age: {sum(1 for c in results.ranking if c.decided_by == 'âge')}"
    )


if __name__ == "__main__":
    main()
