"""Does an answer fit its question's format? (``docs/wire.md``, the ``*Answer`` types).

The shape and the limits are the wire types' (``vigie.wire.http``): the answer is converted
into its format's type, so the document and the server cannot disagree. What depends on the
question (proposition indexes, the stated count, words) is checked here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from vigie.demo import Question
from vigie.protocol import QuestionFormat
from vigie.wire.http import MAX_QROC_WORDS, ChoicesAnswer, PointsAnswer, ScaleAnswer, TextAnswer

_TYPE: dict[QuestionFormat, type[msgspec.Struct]] = {
    QuestionFormat.ZAP: PointsAnswer,
    QuestionFormat.QROC: TextAnswer,
    QuestionFormat.TCS: ScaleAnswer,
}
_SHAPE = {
    PointsAnswer: '{"points": [[x, y], ...]} with 1 to 10 points within 0..1',
    TextAnswer: '{"text": "..."}',
    ScaleAnswer: '{"scale": -2..2}',
    ChoicesAnswer: '{"choices": [index, ...]}',
}


def answer_problem(q: Question, answer: dict[str, Any]) -> str | None:
    """A human explanation of why ``answer`` does not fit ``q``, or None when it fits."""
    kind = _TYPE.get(q.format, ChoicesAnswer)
    try:
        typed = msgspec.convert(answer, kind, strict=True)
    except msgspec.ValidationError as exc:
        return f"{q.format} answers are {_SHAPE[kind]} ({exc})"
    if isinstance(typed, TextAnswer):
        if not 1 <= len(typed.text.split()) <= MAX_QROC_WORDS:
            return f"a QROC answer is 1 to {MAX_QROC_WORDS} words"
        return None
    if isinstance(typed, ChoicesAnswer):
        return _choices(q, typed.choices)
    return None


def _choices(q: Question, choices: list[int]) -> str | None:
    n = len(q.propositions)
    if any(not 0 <= i < n for i in choices):
        return f"choices must be proposition indexes within 0..{n - 1}"
    if len(set(choices)) != len(choices):
        return "choices must not repeat"
    if q.format is QuestionFormat.QRU and len(choices) != 1:
        return "a QRU answer has exactly one choice"
    if q.expected_count is not None and len(choices) != q.expected_count:
        return f"this question asks for exactly {q.expected_count} choices"
    return None
