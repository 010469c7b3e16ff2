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
from itertools import repeat
from operator import add, is_not, methodcaller, or_
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
    # Column by column: each question's stored answers for the whole roster, one score per
    # distinct answer (most candidates share answers), its points as a column (candidates in
    # roster order, kept for the analysis), the totals summed column-wise. C-level maps over
    # lists, not 4 million Python steps (12,000 candidates x 330 questions).
    people = sitting.people
    size = len(people)
    empty: Mapping[str, str] = {}
    mines = [sitting.answers.get(p.candidate_id, empty) for p in people]
    memo: dict[str, dict[str, int]] = {}
    blank: dict[str, int] = {}
    columns: dict[str, list[int]] = {}
    counts: dict[str, int] = {}
    zeros = [0] * size
    unit_totals: list[list[int]] = []
    unit_present: list[list[bool]] = []
    rank_a, rank_b = zeros, zeros
    for u, qs, aside, (_, free_a, free_b) in zip(units, plan, set_aside, fixed, strict=True):
        ta, tb = zeros, zeros
        answered: list[bool] = [False] * size
        everyone = False  # every candidate answered a question of the unit already
        for qid, is_a, weight, k in qs:
            texts: list[str | None] = list(map(methodcaller("get", qid), mines))
            seen = memo[qid] = {}
            for text in dict.fromkeys(texts):
                if text is not None:
                    seen[text] = score(k, parse_answer(text), rules).credit * weight
            points: dict[str | None, int] = dict(seen)
            points[None] = blank[qid] = score(k, None, rules).credit * weight
            col = columns[qid] = list(map(points.__getitem__, texts))
            missing = texts.count(None)
            counts[qid] = size - missing
            if not everyone and missing < size:
                if missing == 0:
                    everyone = True
                else:
                    answered = list(map(or_, answered, map(is_not, texts, repeat(None))))
            if is_a:
                ta = list(map(add, ta, col))
            else:
                tb = list(map(add, tb, col))
        if free_a:
            ta = [t + free_a for t in ta]
        if free_b:
            tb = [t + free_b for t in tb]
        unit_totals.append(list(map(add, ta, tb)))
        rank_a, rank_b = list(map(add, rank_a, ta)), list(map(add, rank_b, tb))
        if everyone:
            answered = [True] * size
        elif not all(answered):
            for i, person in enumerate(people):
                if not answered[i]:
                    answered[i] = (person.candidate_id, u.id) in sitting.present or any(
                        q in mines[i] for q in aside
                    )
        unit_present.append(answered)
    results = [
        CandidateResult(person, list(pts), list(here), a, b, sum(pts))
        for person, pts, here, a, b in zip(
            people, _rows(unit_totals, size), _rows(unit_present, size), rank_a, rank_b,
            strict=True,
        )
    ]
    ranking = _rank(results, units, rules)
    return Results(
        rules, units, unit_max, a_max, b_max, sum(unit_max), sitting.decisions,
        sitting.source, results, ranking, neutralised, memo, blank, columns,
        counts,
    )  # fmt: skip


def _rows(columns: list[list[Any]], size: int) -> list[tuple[Any, ...]]:
    """Per unit columns to per candidate rows (none when no unit is scored)."""
    return list(zip(*columns)) if columns else [()] * size


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
