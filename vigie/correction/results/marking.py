"""The correction itself: every candidate's points from the answers, the keys and the
rules, then the ranking.

Points are exact integers (``rules.unit`` per point of credit, times the question's
weight), so a tie is a real tie. The ranking compares, in order (arrêté du 20 juillet
2015, art. 11): the global total, then each unit's total in the session's order, then
the birth date (the older candidate first). Candidates still equal after that share
their rank; they are listed by candidate id so that the output never varies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, is_not, methodcaller, or_
from typing import Any

import orjson

from vigie.demo import Unit

from ..keys import AnswerKey, Rank
from ..rules import Rules
from ..scoring import credit_of
from .document import CandidateResult, Results
from .sitting import Sitting, corrected_units
from .table import AnswerTable


@dataclass(slots=True)
class _Plan:
    """What a correction scores, per unit, before reading any answer."""

    # the scored questions, (id, is rank A, weight, key); neutralised ones apart
    questions: list[list[tuple[str, bool, int, AnswerKey]]] = field(default_factory=list)
    free: list[tuple[int, int]] = field(default_factory=list)  # points everyone gets (A, B)
    set_aside: list[list[str]] = field(default_factory=list)  # neutralised: still presence
    unit_max: list[int] = field(default_factory=list)
    a_max: int = 0
    b_max: int = 0


@dataclass(slots=True)
class _Columns:
    """Each question's points as a column (candidates in roster order) for the analysis."""

    memo: dict[str, dict[str, int]] = field(default_factory=dict)  # distinct answer -> points
    blank: dict[str, int] = field(default_factory=dict)
    points: dict[str, list[int]] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)


def correct(sitting: Sitting, rules: Rules) -> Results:
    units = corrected_units(sitting.session, sitting.units, sitting.decisions)
    neutralised = sitting.decisions.neutralised_ids()
    plan = _plan(sitting, units, neutralised, rules)
    people = sitting.people
    size = len(people)
    column = _column_reader(sitting)
    cols = _Columns()
    unit_totals: list[list[int]] = []
    unit_present: list[list[bool]] = []
    rank_a = rank_b = [0] * size
    for u, qs, aside, (free_a, free_b) in zip(
        units, plan.questions, plan.set_aside, plan.free, strict=True
    ):
        ta, tb, answered = _score_unit(qs, column, size, rules, cols)
        if free_a:
            ta = [t + free_a for t in ta]
        if free_b:
            tb = [t + free_b for t in tb]
        unit_totals.append(list(map(add, ta, tb)))
        rank_a, rank_b = list(map(add, rank_a, ta)), list(map(add, rank_b, tb))
        if not all(answered):
            aside_cols = [column(q) for q in aside]
            for i, person in enumerate(people):
                if not answered[i]:
                    answered[i] = (person.candidate_id, u.id) in sitting.present or any(
                        c[i] is not None for c in aside_cols
                    )
        unit_present.append(answered)
    results = [
        CandidateResult(person, list(pts), list(here), a, b, sum(pts))
        for person, pts, here, a, b in zip(
            people, _rows(unit_totals, size), _rows(unit_present, size), rank_a, rank_b,
            strict=True,
        )
    ]  # fmt: skip
    ranking = _rank(results, units, rules)
    return Results(
        rules, units, plan.unit_max, plan.a_max, plan.b_max, sum(plan.unit_max),
        sitting.decisions, sitting.source, results, ranking, neutralised, cols.memo,
        cols.blank, cols.points, cols.answered,
    )  # fmt: skip


def _plan(
    sitting: Sitting, units: list[Unit], neutralised: Mapping[str, object], rules: Rules
) -> _Plan:
    one = rules.unit
    full_credit = rules.neutralised == "full_credit"
    plan = _Plan()
    for u in units:
        qs: list[tuple[str, bool, int, AnswerKey]] = []
        free_a = free_b = 0
        m = 0
        for q in u.questions:
            k = sitting.keys[q.id]
            is_a = k.rank is Rank.A
            if q.id in neutralised:
                if not full_credit:
                    continue
                pts = one * k.weight
                free_a += pts if is_a else 0
                free_b += 0 if is_a else pts
            else:
                qs.append((q.id, is_a, k.weight, k))
            m += one * k.weight
            if is_a:
                plan.a_max += one * k.weight
            else:
                plan.b_max += one * k.weight
        plan.questions.append(qs)
        plan.set_aside.append([q.id for q in u.questions if q.id in neutralised])
        plan.free.append((free_a, free_b))
        plan.unit_max.append(m)
    return plan


def _score_unit(
    qs: list[tuple[str, bool, int, AnswerKey]],
    column: Callable[[str], list[str | None]],
    size: int,
    rules: Rules,
    cols: _Columns,
) -> tuple[list[int], list[int], list[bool]]:
    """One unit, column by column: its rank-A and rank-B points and who answered in it.

    C-level maps over lists, not millions of Python steps (12,000 candidates x 330
    questions); one score per distinct answer, since most candidates share answers.
    """
    ta = tb = [0] * size
    answered = [False] * size
    everyone = False  # a question that every candidate answered: all present
    for qid, is_a, weight, k in qs:
        texts = column(qid)
        credit = credit_of(k, rules)
        seen: dict[str, int] = {}
        for text in dict.fromkeys(texts):
            if text is not None:
                seen[text] = credit(parse_answer(text)) * weight
        points: dict[str | None, int] = {None: credit(None) * weight}
        points.update(seen)
        col = list(map(points.__getitem__, texts))
        missing = texts.count(None)
        cols.memo[qid], cols.blank[qid], cols.points[qid] = seen, points[None], col
        cols.answered[qid] = size - missing
        if missing == 0:
            everyone = True
        elif not everyone and missing < size:
            answered = list(map(or_, answered, map(is_not, texts, repeat(None))))
        if is_a:
            ta = list(map(add, ta, col))
        else:
            tb = list(map(add, tb, col))
    return ta, tb, [True] * size if everyone else answered


def _column_reader(sitting: Sitting) -> Callable[[str], list[str | None]]:
    """Each roster candidate's answer to a question: the table's own column when it has one."""
    table = sitting.answers
    ids = tuple(p.candidate_id for p in sitting.people)
    if isinstance(table, AnswerTable) and table.roster == ids:
        return table.column
    empty: Mapping[str, str] = {}
    mines = [table.get(c, empty) for c in ids]
    return lambda qid: list(map(methodcaller("get", qid), mines))


def _rows(columns: list[list[Any]], size: int) -> list[tuple[Any, ...]]:
    """Per unit columns to per candidate rows (none when no unit is scored)."""
    return list(zip(*columns, strict=True)) if columns else [()] * size


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
