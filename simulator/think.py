"""What a simulated candidate does between two taps: how long it thinks, what it answers."""

from __future__ import annotations

import math
import random

from simulator.settings import ThinkTime
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


def make_answer(question: QuestionDoc, rng: random.Random = random._inst) -> Answer:  # type: ignore[attr-defined]
    """A valid answer for ``question`` (:data:`vigie.wire.http.Answer`, by format)."""
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
