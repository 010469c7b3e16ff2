"""Does an answer fit its question's format? (docs/protocol.md, ``Answer`` by format)."""

from __future__ import annotations

from typing import Any

from vigie.demo import Question
from vigie.protocol import QuestionFormat

MAX_ZAP_POINTS = 10
MAX_QROC_WORDS = 5
MAX_QROC_CHARS = 200


def answer_problem(q: Question, answer: dict[str, Any]) -> str | None:
    """A human explanation of why ``answer`` does not fit ``q``, or None when it fits."""
    fmt = q.format
    if fmt is QuestionFormat.ZAP:
        return _points(answer)
    if fmt is QuestionFormat.QROC:
        return _text(answer)
    if fmt is QuestionFormat.TCS:
        if set(answer) != {"scale"}:
            return 'TCS answers are {"scale": -2..2}'
        scale = answer["scale"]
        if type(scale) is not int or not -2 <= scale <= 2:
            return "scale must be an integer within -2..2"
        return None
    return _choices(q, answer)


def _choices(q: Question, answer: dict[str, Any]) -> str | None:
    if set(answer) != {"choices"} or not isinstance(answer["choices"], list):
        return f'{q.format} answers are {{"choices": [index, ...]}}'
    choices = answer["choices"]
    n = len(q.propositions)
    if any(type(i) is not int or not 0 <= i < n for i in choices):
        return f"choices must be proposition indexes within 0..{n - 1}"
    if len(set(choices)) != len(choices):
        return "choices must not repeat"
    if q.format is QuestionFormat.QRU and len(choices) != 1:
        return "a QRU answer has exactly one choice"
    if q.expected_count is not None and len(choices) != q.expected_count:
        return f"this question asks for exactly {q.expected_count} choices"
    if not choices:
        return "choose at least one proposition"
    return None


def _points(answer: dict[str, Any]) -> str | None:
    if set(answer) != {"points"} or not isinstance(answer["points"], list):
        return 'ZAP answers are {"points": [[x, y], ...]}'
    points = answer["points"]
    if not 1 <= len(points) <= MAX_ZAP_POINTS:
        return f"give 1 to {MAX_ZAP_POINTS} points"
    for p in points:
        if not (
            isinstance(p, list)
            and len(p) == 2
            and all(type(v) in (int, float) and 0 <= v <= 1 for v in p)
        ):
            return "each point is [x, y] with x and y within 0..1"
    return None


def _text(answer: dict[str, Any]) -> str | None:
    if set(answer) != {"text"} or not isinstance(answer["text"], str):
        return 'QROC answers are {"text": "..."}'
    text = answer["text"]
    words = text.split()
    if not words or len(words) > MAX_QROC_WORDS or len(text) > MAX_QROC_CHARS:
        return f"a QROC answer is 1 to {MAX_QROC_WORDS} words"
    return None
