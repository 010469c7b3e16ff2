"""Marks and ranking on a hand-made session: every tie rule in turn, neutralisation, absence."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.correction.keys import AnswerKey, Rank
from vigie.correction.results import (
    Decisions,
    Neutralisation,
    Person,
    Replacement,
    Sitting,
    TraceLine,
    correct,
    ratio_text,
    trace,
)
from vigie.correction.rules import load_rules, parse_rules
from vigie.demo import Question, Session, Unit
from vigie.protocol import QuestionFormat, UnitKind

RULES = load_rules()
UNITS = ("u1", "u2", "u3")


def _session() -> tuple[Session, dict[str, AnswerKey]]:
    units, keys = [], {}
    for uid in UNITS:
        qs = []
        for i, rank in enumerate((Rank.A, Rank.B)):
            q = Question(f"{uid}-q{i + 1}", QuestionFormat.QRU, i, "?", ("a", "b", "c", "d"))
            qs.append(q)
            keys[q.id] = AnswerKey(q.id, uid, q.format, rank, 1, right=(0,))
        units.append(
            Unit(uid, uid.upper(), UnitKind.STANDARD, 10800.0, tuple(qs), {q.id: q for q in qs})
        )
    return Session(0, tuple(units)), keys


# Each candidate: per unit, which of (q1, q2) are right; None = absent from the unit.
SCRIPT: dict[str, tuple[str, list[tuple[bool, bool] | None]]] = {
    "A": ("1999-05-01", [(True, True), (True, True), (True, True)]),  # 6
    "B": ("1999-05-01", [(True, True), (True, False), (False, True)]),  # 4, ue1 = 2
    "C": ("1999-05-01", [(False, True), (True, True), (True, False)]),  # 4, ue1 = 1
    "D": ("1999-05-01", [(True, False), (True, False), (True, False)]),  # 3, 1/1/1
    "E": ("1999-05-01", [(False, True), (False, False), (True, True)]),  # 3, 1/0/2
    "F": ("1997-01-01", [(False, False), (True, False), (True, False)]),  # 2, older
    "G": ("1998-01-01", [(False, False), (True, False), (False, True)]),  # 2, younger
    "H": ("1998-03-03", [(False, False), (False, False), (False, False)]),  # 0
    "I": ("1998-03-03", [(False, False), (False, False), (False, False)]),  # 0, same day
    "J": ("1996-01-01", [(True, True), None, (True, True)]),  # absent from u2
}


NO_DECISION = Decisions()


def sitting(decisions: Decisions = NO_DECISION) -> Sitting:
    session, keys = _session()
    answers: dict[str, dict[str, str]] = {}
    present = set()
    people = []
    for cid, (born, units) in SCRIPT.items():
        people.append(Person(cid, "AMU", born))
        per = answers.setdefault(cid, {})
        for uid, rights in zip(UNITS, units, strict=True):
            if rights is None:
                continue
            present.add((cid, uid))
            for i, ok in enumerate(rights):
                per[f"{uid}-q{i + 1}"] = json.dumps({"choices": [0 if ok else 1]})
    return Sitting(session, keys, people, answers, frozenset(present), UNITS, decisions)


def ranks(results: object) -> dict[str, tuple[int | None, str]]:
    return {c.candidate_id: (c.rank, c.decided_by) for c in results.candidates}  # type: ignore[attr-defined]


def test_every_tie_rule_in_turn() -> None:
    r = ranks(correct(sitting(), RULES))
    assert r == {
        "A": (1, ""),
        "B": (2, "note globale"),
        "C": (3, "note u1"),  # equal totals: the first unit decides
        "D": (4, "note globale"),
        "E": (5, "note u2"),  # equal totals and first unit: the next unit decides
        "F": (6, "note globale"),
        "G": (7, "âge"),  # equal everywhere: the older candidate first
        "H": (8, "note globale"),
        "I": (8, "ex æquo"),  # equal everywhere, same birth date: same rank
        "J": (None, ""),  # absent from a unit: not ranked
    }


def test_marks_raw_on_20_rank_a_rank_b_and_global() -> None:
    res = correct(sitting(), RULES)
    by = {c.candidate_id: c for c in res.candidates}
    b = by["B"]
    assert res.unit_max == [2 * RULES.unit] * 3 and res.total_max == 6 * RULES.unit
    assert [Fraction(p, RULES.unit) for p in b.unit_points] == [2, 1, 1]
    assert res.mark(b.unit_points[0], res.unit_max[0]) == 20
    assert res.global_mark(b) == Fraction(40, 3) and res.show(res.global_mark(b)) == "13.333"
    assert res.rank_a_mark(b) == Fraction(40, 3)  # q1 right in u1, u2: 2 of 3
    assert res.rank_b_mark(b) == Fraction(40, 3)  # q2 right in u1, u3
    assert not res.meets_rank_a_minimum(b) and res.meets_rank_a_minimum(by["A"])
    assert res.matching_share(by["A"]) == 60  # A and B marks are 60 % of the matching mark
    row = res.row(b)
    assert row["units"]["u1"] == {"present": True, "points": "2.000", "mark": "20.000"}
    assert row["global_mark"] == "13.333" and row["rank"] == 2


def test_a_neutralisation_changes_the_ranking_as_expected() -> None:
    # u1-q1: B right, C wrong. Removed from the scale, B loses a point C never had.
    decided = Decisions((Neutralisation("u1-q1", "deux réponses justes", "jury:national"),))
    res = correct(sitting(decided), RULES)
    r = ranks(res)
    assert r["C"][0] is not None and r["B"][0] is not None
    assert r["C"][0] < r["B"][0] and r["B"] == (3, "note globale")
    assert res.unit_max[0] == RULES.unit and res.total_max == 5 * RULES.unit
    assert res.header()["decisions"][0]["question_id"] == "u1-q1"
    # Under "full_credit" every candidate gets it: C gains a point, B keeps its own.
    raw = dict(RULES.raw, neutralised="full_credit")
    lenient = parse_rules(yaml.safe_dump(raw, allow_unicode=True).encode())
    res2 = correct(sitting(decided), lenient)
    by = {c.candidate_id: c for c in res2.candidates}
    assert Fraction(by["C"].total, RULES.unit) == 5 and Fraction(by["B"].total, RULES.unit) == 4
    assert ranks(res2)["C"] == (2, "note globale")


def test_trace_explains_each_question() -> None:
    s = sitting(Decisions((Neutralisation("u2-q2", "énoncé ambigu"),)))
    lines = trace(s, RULES, "B")
    assert [t.question_id for t in lines] == [f"{u}-q{i}" for u in UNITS for i in (1, 2)]
    first = lines[0]
    assert (first.answer, first.key, first.points, first.discordances) == ("A", "A", "1", 0)
    assert "réponse unique" in first.rule
    wrong = lines[3]  # u2-q2: B answered B, neutralised
    assert (
        wrong.answer == "B" and wrong.points == "0" and "neutralisée (énoncé ambigu)" in wrong.rule
    )
    absent = trace(s, RULES, "J")[2]
    assert absent.answer == "—" and absent.rule.endswith("sans réponse")


def test_ranking_can_include_absent_candidates() -> None:
    raw = dict(RULES.raw, rank_absent=True)
    rules = parse_rules(yaml.safe_dump(raw, allow_unicode=True).encode())
    assert ranks(correct(sitting(), rules))["J"] == (3, "note u2")  # 4 points as B; u2 decides


@pytest.mark.parametrize("decimals", [0, 3])
def test_shown_marks_round_half_even(decimals: int) -> None:
    raw = dict(RULES.raw, mark_decimals=decimals)
    res = correct(sitting(), parse_rules(yaml.safe_dump(raw, allow_unicode=True).encode()))
    assert res.show(Fraction(25, 2)) == ("12" if decimals == 0 else "12.500")
    assert res.show(Fraction(40, 3), comma=True) == ("13" if decimals == 0 else "13,333")


@settings(deadline=None)
@given(st.integers(-(10**12), 10**12), st.integers(1, 10**9), st.integers(0, 6))
def test_ratio_text_is_exact_half_even_rounding(num: int, den: int, decimals: int) -> None:
    scaled = round(Fraction(num, den) * 10**decimals)  # Fraction rounds half to even
    whole, frac = divmod(abs(scaled), 10**decimals)
    sign = "-" if scaled < 0 else ""
    expected = f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"
    assert ratio_text(num, den, decimals) == expected


def test_a_cancelled_unit_gives_way_to_its_backup_in_its_place() -> None:
    base = sitting()
    session, keys = _session()
    # u2b: the backup of u2, sat in its own time; B does well on it, C badly.
    qs = []
    for i, rank in enumerate((Rank.A, Rank.B)):
        q = Question(f"u2b-q{i + 1}", QuestionFormat.QRU, i, "?", ("a", "b", "c", "d"))
        qs.append(q)
        keys[q.id] = AnswerKey(q.id, "u2b", q.format, rank, 1, right=(0,))
    backup = Unit(
        "u2b", "U2 (secours)", UnitKind.STANDARD, 10800.0, tuple(qs), {q.id: q for q in qs}
    )
    session = Session(0, (*session.units, backup))
    answers = {cid: dict(per) for cid, per in base.answers.items()}
    for cid in SCRIPT:
        ok = cid in ("A", "B")
        for q in qs:
            answers[cid][q.id] = json.dumps({"choices": [0 if ok else 1]})
    decided = Decisions(
        replacements=(Replacement("u2", "u2b", "panne nationale", "jury:national"),)
    )
    s = Sitting(session, keys, base.people, answers, base.present, (*UNITS, "u2b"), decided)
    res = correct(s, RULES)
    assert [u.id for u in res.units] == ["u1", "u2b", "u3"]  # the backup in u2's place
    by = {c.candidate_id: c for c in res.candidates}
    assert [Fraction(p, RULES.unit) for p in by["B"].unit_points] == [2, 2, 1]
    assert [Fraction(p, RULES.unit) for p in by["C"].unit_points] == [1, 0, 1]
    r = ranks(res)
    assert r["B"] == (2, "note globale")
    assert r["J"] == (3, "note globale")  # absent from u2, but u2 no longer counts
    assert r["C"] == (5, "note globale") and r["D"] == (5, "ex æquo")  # 1/0/1 each, same day
    assert res.header()["decisions"] == [
        {"kind": "replace_unit", "unit_id": "u2", "backup_id": "u2b", "reason": "panne nationale",
         "actor": "jury:national", "ts": 0.0}
    ]  # fmt: skip
    assert [t.unit_id for t in trace(s, RULES, "B")] == ["u1", "u1", "u2b", "u2b", "u3", "u3"]


def test_traces_with_a_shared_cache_are_the_same() -> None:
    s = sitting(Decisions((Neutralisation("u2-q2", "énoncé ambigu"),)))
    cache: dict[tuple[str, str | None], TraceLine] = {}
    for cid in SCRIPT:
        assert trace(s, RULES, cid, cache) == trace(s, RULES, cid)
    assert len(cache) < len(SCRIPT) * 6  # shared answers explained once


def test_a_trace_shows_an_answer_of_the_wrong_shape_as_stored() -> None:
    from vigie.correction.results.traces import show_answer

    assert show_answer({"choices": [0, 2]}) == "AC"
    assert show_answer({"choices": "x"}) == '{"choices": "x"}'  # never a crash
    assert show_answer({"points": [[0.5]]}) == '{"points": [[0.5]]}'
    assert show_answer({"scale": "high"}) == '{"scale": "high"}'
    assert show_answer(None) == "—"
