"""What a simulated candidate does between two taps: how long it thinks, what it answers."""

from __future__ import annotations

import math
import random
from typing import Any

from simulator.settings import ThinkTime
from vigie.protocol import QuestionFormat

_WORDS = ("insuffisance", "cardiaque", "aigue", "sepsis", "embolie", "pulmonaire", "asthme")


def think_seconds(think: ThinkTime, compression: float, rng: random.Random = random._inst) -> float:  # type: ignore[attr-defined]
    """A lognormal think time in real exam seconds, clipped, divided by the compression."""
    raw = think.median_s * math.exp(think.sigma * rng.gauss(0.0, 1.0))
    return min(max(raw, think.min_s), think.max_s) / max(compression, 1e-9)


def make_answer(question: dict[str, Any], rng: random.Random = random._inst) -> dict[str, Any]:  # type: ignore[attr-defined]
    """A valid answer for ``question`` (docs/protocol.md, ``Answer`` by format)."""
    fmt = question.get("format")
    if fmt == QuestionFormat.ZAP:
        return {"points": [[round(rng.random(), 3), round(rng.random(), 3)]]}
    if fmt == QuestionFormat.QROC:
        return {"text": " ".join(rng.sample(_WORDS, rng.randint(1, 3)))}
    if fmt == QuestionFormat.TCS:
        return {"scale": rng.randint(-2, 2)}
    n = max(len(question.get("propositions") or ()), 1)
    expected = question.get("expected_count")
    if isinstance(expected, int) and 0 < expected <= n:
        count = expected
    elif fmt == QuestionFormat.QRU:
        count = 1
    else:
        count = rng.randint(1, n)
    return {"choices": sorted(rng.sample(range(n), count))}
