"""Score one answer against its key under the rules: pure, no I/O, no clock.

A credit is an integer count of ``rules.unit`` (10**credit_decimals) per point, rounded
half to even once per question: sums are exact, two equal totals are a real tie.
Answers are the stored shapes of docs/protocol.md (choices 0-based, ZAP points in
0..1, QROC text, TCS scale); ``None`` is a question left unanswered.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .keys import AnswerKey
from .rules import FormatRule, Rules

_SEPARATORS = re.compile(r"[-‐‑‒–—'’`.,;:!?()\[\]\"«»]")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


@dataclass(frozen=True, slots=True)
class Scored:
    credit: int  # in rules.unit per point: 0..rules.unit
    discordances: int | None  # choice formats and ZAP (missed zones + stray points)
    rule: str  # what was applied, in words, for the appeal trace


def normalise(text: str) -> str:
    """QROC comparison form: no case, no accents, no ligatures, hyphens and quotes as spaces."""
    t = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()
    return " ".join(_SEPARATORS.sub(" ", t).split())


def _credit(value: Fraction, rules: Rules) -> int:
    return round(value * rules.unit)


def score(key: AnswerKey, answer: dict[str, Any] | None, rules: Rules) -> Scored:
    fr = rules.formats[key.format]
    if answer is None:
        return Scored(_credit(rules.unanswered_credit, rules), None, "sans réponse")
    try:
        return _score(key, answer, fr, rules)
    except (KeyError, TypeError, ValueError):  # never stored by the server; 0, said so
        return Scored(0, None, "réponse illisible → 0")


def _score(key: AnswerKey, answer: dict[str, Any], fr: FormatRule, rules: Rules) -> Scored:
    one, zero = rules.unit, 0
    if fr.rule in ("single_answer", "discordances", "right_over_expected"):
        ticked = {int(i) for i in answer["choices"]}
        right = set(key.right)
        disc = len(ticked ^ right)
        if fr.rule == "single_answer":
            ok = ticked == right
            return Scored(
                one if ok else zero, disc, f"réponse unique : {'juste → 1' if ok else 'fausse → 0'}"
            )
        if fr.zero_if_inacceptable_ticked and ticked & set(key.inacceptable):
            return Scored(zero, disc, "proposition inacceptable cochée → 0")
        if fr.zero_if_indispensable_unticked and set(key.indispensable) - ticked:
            return Scored(zero, disc, "proposition indispensable non cochée → 0")
        if fr.rule == "discordances":
            table = fr.credit_by_discordances
            value = table[disc] if disc < len(table) else Fraction(0)
            return Scored(_credit(value, rules), disc, f"{disc} discordance(s) → {_show(value)}")
        good = len(ticked & right)
        value = Fraction(good, len(right)) if right else Fraction(0)
        return Scored(
            _credit(value, rules),
            disc,
            f"{good} juste(s) sur {len(right)} attendue(s) → {_show(value)}",
        )
    if fr.rule == "all_zones":
        points = [(float(x), float(y)) for x, y in answer["points"]]
        hit: set[int] = set()
        stray = 0
        for x, y in points:
            inside = False
            for n, (x0, y0, x1, y1) in enumerate(key.zones):
                if x0 <= x <= x1 and y0 <= y <= y1:
                    hit.add(n)
                    inside = True
            stray += not inside
        missed = len(key.zones) - len(hit)
        if missed:
            return Scored(zero, missed + stray, f"{missed} zone(s) non pointée(s) → 0")
        if stray and fr.stray_points == "zero":
            return Scored(zero, missed + stray, f"{stray} point(s) hors zone → 0")
        return Scored(one, missed + stray, "toutes les zones pointées → 1")
    if fr.rule == "normalised_match":
        given = normalise(str(answer["text"]))
        ok = given in {normalise(a) for a in key.accepted}
        return Scored(
            one if ok else zero, None, f"« {given} » {'acceptée → 1' if ok else 'non acceptée → 0'}"
        )
    # panel_share
    scale = int(answer["scale"])
    votes = key.panel.count(scale)
    modal = max(key.panel.count(v) for v in set(key.panel))
    value = Fraction(votes, modal)
    return Scored(
        _credit(value, rules),
        None,
        f"panel {votes}/{len(key.panel)}, modale {modal} → {_show(value)}",
    )


def _show(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").replace(".", ",")


def max_credit(rules: Rules) -> int:
    return rules.unit
