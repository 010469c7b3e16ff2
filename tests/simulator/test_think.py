"""What a simulated candidate answers: a skilled one from the keys, with its own chance."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace

import msgspec
import pytest

from exam_server_stub.answer_format import answer_problem
from simulator.settings import Cohort
from simulator.think import answer_keys, keyed_answer, make_answer, skill_of
from vigie import demo
from vigie.correction.rules import load_rules
from vigie.correction.scoring import score
from vigie.protocol import QuestionFormat
from vigie.wire.http import QuestionDoc

SEED = 2022
SESSION = demo.generate_session(SEED)
QUESTIONS = [q for u in SESSION.units for q in u.questions]


def doc(q: demo.Question) -> QuestionDoc:
    """The question as a tablet reads it from its package."""
    return msgspec.convert(q.to_json(), QuestionDoc)


def test_a_keyed_answer_is_valid_and_earns_every_point_in_every_format() -> None:
    keys, rules = answer_keys(SEED), load_rules()
    assert {q.format for q in QUESTIONS} == set(QuestionFormat)  # every format is covered
    for q in QUESTIONS:
        answer = keyed_answer(doc(q), keys[q.id])
        assert answer is not None, q.id
        body = msgspec.to_builtins(answer)
        assert answer_problem(q, body) is None, (q.id, body)
        assert score(keys[q.id], body, rules).credit == rules.unit, (q.id, body)


def test_a_key_that_does_not_fit_the_question_is_never_used() -> None:
    keys = answer_keys(SEED)
    qru = next(q for q in QUESTIONS if q.format is QuestionFormat.QRU)
    qroc = next(q for q in QUESTIONS if q.format is QuestionFormat.QROC)
    assert keyed_answer(doc(qru), keys[qroc.id]) is None  # another format
    shorter = replace(qru, propositions=qru.propositions[:1])
    far = replace(keys[qru.id], right=(len(qru.propositions) - 1,))
    assert keyed_answer(doc(shorter), far) is None  # a choice the question does not have
    # ... and the candidate answers at random instead, validly
    body = msgspec.to_builtins(make_answer(doc(shorter), random.Random(1), far, skill=1.0))
    assert answer_problem(shorter, body) is None


def test_skill_decides_how_often_the_key_is_given() -> None:
    keys, rng = answer_keys(SEED), random.Random(7)
    choice = [q for q in QUESTIONS if q.format is QuestionFormat.QRM]
    for skill, low, high in ((1.0, 1.0, 1.0), (0.5, 0.4, 0.6), (0.0, 0.0, 0.15)):
        right = 0
        for q in choice * 10:
            given = make_answer(doc(q), rng, keys[q.id], skill)
            right += given == keyed_answer(doc(q), keys[q.id])
        assert low <= right / (10 * len(choice)) <= high, skill


def test_the_cohort_spreads_and_each_candidate_keeps_their_skill() -> None:
    cohort = Cohort(skilled_share=0.8, skill_mean=0.6, skill_sd=0.15)
    ids = [demo.candidate_id("AMIENS", n) for n in range(1, 4001)]
    skills = [skill_of(SEED, cid, cohort) for cid in ids]
    assert skills == [skill_of(SEED, cid, cohort) for cid in ids]  # every process agrees
    skilled = [s for s in skills if s > 0]
    assert len(skilled) / len(skills) == pytest.approx(0.8, abs=0.03)
    assert statistics.mean(skilled) == pytest.approx(0.6, abs=0.02)
    assert statistics.stdev(skilled) == pytest.approx(0.15, abs=0.02)
    assert all(0.0 <= s <= 1.0 for s in skills)
    assert {skill_of(SEED, cid, Cohort()) for cid in ids} == {0.0}  # the default: at random
