"""The per-candidate trace, for appeals: each question, the answer, the key and what the
rules made of it, in words a jury can read out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from vigie.demo import Unit

from ..keys import AnswerKey
from ..rules import Rules
from ..scoring import Scored, score
from .marking import parse_answer
from .sitting import Neutralisation, Sitting, corrected_units


@dataclass(frozen=True, slots=True)
class TraceLine:
    unit_id: str
    question_id: str
    format: str
    rank: str
    weight: int
    answer: str
    key: str
    discordances: int | None
    points: str
    rule: str


def trace(
    sitting: Sitting,
    rules: Rules,
    candidate_id: str,
    cache: dict[tuple[str, str | None], TraceLine] | None = None,
) -> list[TraceLine]:
    """Each question of each corrected unit: the answer, the key, what the rules made of it.

    ``cache`` (shared between candidates) explains each distinct answer once: every trace
    of a session (``--trace-all``) costs about one correction.
    """
    neutralised = sitting.decisions.neutralised_ids()
    mine = sitting.answers.get(candidate_id, {})
    known = cache if cache is not None else {}
    out: list[TraceLine] = []
    for u in corrected_units(sitting.session, sitting.units, sitting.decisions):
        for q in u.questions:
            text = mine.get(q.id)
            line = known.get((q.id, text))
            if line is None:
                line = known[(q.id, text)] = _trace_line(sitting, rules, u, q.id, text, neutralised)
            out.append(line)
    return out


def _trace_line(
    sitting: Sitting,
    rules: Rules,
    u: Unit,
    qid: str,
    text: str | None,
    neutralised: dict[str, Neutralisation],
) -> TraceLine:
    k = sitting.keys[qid]
    answer = parse_answer(text)
    s: Scored = score(k, answer, rules)
    points = Fraction(s.credit * k.weight, rules.unit)
    rule = f"{rules.formats[k.format].describe()} : {s.rule}"
    if qid in neutralised:
        n = neutralised[qid]
        if rules.neutralised == "full_credit":
            points, rule = Fraction(k.weight), f"neutralisée ({n.reason}) : crédit plein"
        else:
            points, rule = Fraction(0), f"neutralisée ({n.reason}) : retirée du barème"
    return TraceLine(
        u.id, qid, k.format.value, k.rank.value, k.weight, show_answer(answer), show_key(k),
        s.discordances, _points(points), rule,
    )  # fmt: skip


def _points(value: Fraction) -> str:
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def _letters(indexes: Iterable[int]) -> str:
    return "".join(_letter(i) for i in sorted(indexes))


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"[{i + 1}]"


def show_answer(answer: dict[str, Any] | None) -> str:
    """The stored answer as a juror reads it; one that does not have its format's shape
    (a database not written by vigie serve) is shown as stored, never a crash."""
    if answer is None:
        return "—"
    try:
        return _shown(answer)
    except (TypeError, ValueError, IndexError, KeyError):
        return json.dumps(answer, sort_keys=True, default=str)


def _shown(answer: dict[str, Any]) -> str:
    if "choices" in answer:
        return _letters(int(i) for i in answer["choices"]) or "(aucune)"
    if "points" in answer:
        return " ".join(f"({p[0]:.3f},{p[1]:.3f})" for p in answer["points"])
    if "text" in answer:
        return str(answer["text"])
    if "scale" in answer:
        return f"{int(answer['scale']):+d}"
    return json.dumps(answer, sort_keys=True)


def show_key(k: AnswerKey) -> str:
    if k.right:
        text = _letters(k.right)
        if k.indispensable:
            text += f" ; indispensable {_letters(k.indispensable)}"
        if k.inacceptable:
            text += f" ; inacceptable {_letters(k.inacceptable)}"
        return text
    if k.zones:
        return " ".join(f"[{z[0]:.3f},{z[1]:.3f}–{z[2]:.3f},{z[3]:.3f}]" for z in k.zones)
    if k.accepted:
        return " | ".join(k.accepted)
    counts = {v: k.panel.count(v) for v in range(-2, 3)}
    return "panel " + " ".join(f"{v:+d}:{n}" for v, n in counts.items())
