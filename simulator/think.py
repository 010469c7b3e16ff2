"""What a simulated candidate does between two taps: how long it thinks, what it answers.

A skilled candidate (``Cohort``) answers a question right with its own chance, from the
key that the demo session derives from the seed (:mod:`vigie.correction.keys`, the same
the correction reads), so that the marks spread and the ranking's tie rules have work.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter

from simulator.settings import Cohort, ThinkTime
from vigie import demo
from vigie.correction.keys import CHOICE_FORMATS, AnswerKey, session_keys
from vigie.protocol import QuestionFormat
from vigie.wire.http import (
    Answer,
    ChoicesAnswer,
    PointsAnswer,
    QuestionDoc,
    ScaleAnswer,
    TextAnswer,
)

_WORDS = ("insuffisance", "cardiaque", "aigue", "sepsis", "embolie", "pulmonaire", "asthme")


def think_seconds(think: ThinkTime, compression: float, rng: random.Random = random._inst) -> float:  # type: ignore[attr-defined]
    """A lognormal think time in real exam seconds, clipped, divided by the compression."""
    raw = think.median_s * math.exp(think.sigma * rng.gauss(0.0, 1.0))
    return min(max(raw, think.min_s), think.max_s) / max(compression, 1e-9)


def skill_of(seed: int, candidate_id: str, cohort: Cohort) -> float:
    """The candidate's chance to answer a question right (0: answers at random), the same
    for a candidate in every run and every process of a seed."""
    rng = random.Random(f"{seed}:skill:{candidate_id}")
    if rng.random() >= cohort.skilled_share:
        return 0.0
    return min(1.0, max(0.0, rng.gauss(cohort.skill_mean, cohort.skill_sd)))


@functools.lru_cache(maxsize=2)
def answer_keys(seed: int) -> dict[str, AnswerKey]:
    """Every question's key in the demo session of ``seed``, once per process."""
    return session_keys(demo.generate_session(seed))


def keyed_answer(question: QuestionDoc, key: AnswerKey) -> Answer | None:
    """The key's answer to ``question``, or None when the key is not this question's (a
    server with another seed): never an answer the question would refuse."""
    fmt = question.format
    if key.format != fmt:
        return None
    if fmt in CHOICE_FORMATS:
        n = len(question.propositions)
        fits = key.right and all(0 <= i < n for i in key.right)
        expected = question.expected_count
        if not fits or (expected is not None and len(key.right) != expected):
            return None
        return ChoicesAnswer(choices=list(key.right))
    if fmt == QuestionFormat.ZAP:
        return PointsAnswer(
            points=[
                [round((x0 + x1) / 2, 3), round((y0 + y1) / 2, 3)] for x0, y0, x1, y1 in key.zones
            ]
        )
    if fmt == QuestionFormat.QROC:
        return TextAnswer(text=key.accepted[0]) if key.accepted else None
    if not key.panel:
        return None
    return ScaleAnswer(scale=Counter(key.panel).most_common(1)[0][0])  # the panel's mode


def make_answer(
    question: QuestionDoc,
    rng: random.Random = random._inst,  # type: ignore[attr-defined]
    key: AnswerKey | None = None,
    skill: float = 0.0,
) -> Answer:
    """A valid answer for ``question`` (:data:`vigie.wire.http.Answer`, by format): the
    key's with probability ``skill`` (when there is a key), else a random one."""
    if key is not None and skill > 0 and rng.random() < skill:
        right = keyed_answer(question, key)
        if right is not None:
            return right
    fmt = question.format
    if fmt == QuestionFormat.ZAP:
        return PointsAnswer(points=[[round(rng.random(), 3), round(rng.random(), 3)]])
    if fmt == QuestionFormat.QROC:
        return TextAnswer(text=" ".join(rng.sample(_WORDS, rng.randint(1, 3))))
    if fmt == QuestionFormat.TCS:
        return ScaleAnswer(scale=rng.randint(-2, 2))
    n = max(len(question.propositions), 1)
    expected = question.expected_count
    if expected is not None and 0 < expected <= n:
        count = expected
    elif fmt == QuestionFormat.QRU:
        count = 1
    else:
        count = rng.randint(1, n)
    return ChoicesAnswer(choices=sorted(rng.sample(range(n), count)))
