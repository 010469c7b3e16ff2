"""The correction itself: every candidate's points from the answers, the keys and the
rules, then the ranking.

Points are exact integers (``rules.unit`` per point of credit, times the question's
weight), so a tie is a real tie. The ranking compares, in order (arrêté du 20 juillet
2015, art. 11): the global total, then each unit's total in the session's order, then
the birth date (the older candidate first). Candidates still equal after that share
their rank; they are listed by candidate id so that the output never varies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from vigie.demo import Unit

from ..keys import AnswerKey, Rank
from ..rules import Rules
from ..scoring import score
from .document import CandidateResult, Results
from .sitting import Sitting, corrected_units


def correct(sitting: Sitting, rules: Rules) -> Results:
    units = corrected_units(sitting.session, sitting.units, sitting.decisions)
    neutralised = sitting.decisions.neutralised_ids()
    one = rules.unit
    full_credit = rules.neutralised == "full_credit"
    # Per unit: the scored questions, (id, is rank A, weight, key); neutralised ones apart.
    plan: list[list[tuple[str, bool, int, AnswerKey]]] = []
    fixed: list[tuple[int, int, int]] = []  # per unit: points everyone gets (all, A, B)
    set_aside: list[list[str]] = []  # per unit: neutralised questions (an answer still counts
    # as presence)
    unit_max: list[int] = []
    a_max = b_max = 0
    for u in units:
        qs: list[tuple[str, bool, int, AnswerKey]] = []
        free = free_a = free_b = 0
        m = 0
        for q in u.questions:
            k = sitting.keys[q.id]
            is_a = k.rank is Rank.A
            if q.id in neutralised:
                if not full_credit:
                    continue
                pts = one * k.weight
                free += pts
                free_a += pts if is_a else 0
                free_b += 0 if is_a else pts
            else:
                qs.append((q.id, is_a, k.weight, k))
            m += one * k.weight
            if is_a:
                a_max += one * k.weight
            else:
                b_max += one * k.weight
        plan.append(qs)
        set_aside.append([q.id for q in u.questions if q.id in neutralised])
        fixed.append((free, free_a, free_b))
        unit_max.append(m)
    # One score per distinct stored answer to a question (most candidates share answers),
    # and each question's points as a column (candidates in roster order) for the analysis.
    memo: dict[str, dict[str, int]] = {}
    blank: dict[str, int] = {}
    columns: dict[str, list[int]] = {}
    counts: dict[str, list[int]] = {}
    steps: list[list[tuple[Any, ...]]] = []
    for qs in plan:
        unit_steps: list[tuple[Any, ...]] = []
        for qid, is_a, weight, k in qs:
            memo[qid], columns[qid], counts[qid] = {}, [], [0]
            blank[qid] = score(k, None, rules).credit * weight
            unit_steps.append(
                (qid, is_a, weight, k, memo[qid], blank[qid], columns[qid].append, counts[qid])
            )
        steps.append(unit_steps)
    results: list[CandidateResult] = []
    empty: Mapping[str, str] = {}
    for person in sitting.people:
        cid = person.candidate_id
        mine = sitting.answers.get(cid, empty)
        res = CandidateResult(person, [], [])
        for u, qsteps, aside, (free, free_a, free_b) in zip(
            units, steps, set_aside, fixed, strict=True
        ):
            tot, ta, tb = free, free_a, free_b
            answered = False
            for qid, is_a, weight, k, seen, blank_pts, keep, count in qsteps:
                text = mine.get(qid)
                if text is None:
                    pts = blank_pts
                else:
                    answered = True
                    count[0] += 1
                    got = seen.get(text)
                    if got is None:
                        got = seen[text] = score(k, parse_answer(text), rules).credit * weight
                    pts = got
                keep(pts)
                tot += pts
                if is_a:
                    ta += pts
                else:
                    tb += pts
            if not answered:
                answered = (cid, u.id) in sitting.present or any(q in mine for q in aside)
            res.unit_points.append(tot)
            res.present.append(answered)
            res.rank_a += ta
            res.rank_b += tb
            res.total += tot
        results.append(res)
    ranking = _rank(results, units, rules)
    return Results(
        rules, units, unit_max, a_max, b_max, sum(unit_max), sitting.decisions,
        sitting.source, results, ranking, neutralised, memo, blank, columns,
        {q: n[0] for q, n in counts.items()},
    )  # fmt: skip


def parse_answer(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    doc = orjson.loads(text)
    return doc if isinstance(doc, dict) else {}


def _rank(results: list[CandidateResult], units: list[Unit], rules: Rules) -> list[CandidateResult]:
    ranked = [c for c in results if rules.rank_absent or all(c.present)]

    def order(c: CandidateResult) -> tuple[Any, ...]:
        return (-c.total, *(-p for p in c.unit_points), c.person.birth_date, c.candidate_id)

    ranked.sort(key=order)
    prev: CandidateResult | None = None
    for n, c in enumerate(ranked, 1):
        if prev is None:
            c.rank, c.decided_by = 1, ""
        else:
            c.decided_by = _tie_reason(prev, c, units)
            c.rank = prev.rank if c.decided_by == "ex æquo" else n
        prev = c
    return ranked


def _tie_reason(above: CandidateResult, c: CandidateResult, units: list[Unit]) -> str:
    if above.total != c.total:
        return "note globale"
    for u, a, b in zip(units, above.unit_points, c.unit_points, strict=True):
        if a != b:
            return f"note {u.id}"
    if above.person.birth_date != c.person.birth_date:
        return "âge"
    return "ex æquo"
