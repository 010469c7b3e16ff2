"""Score one answer against its key under the rules: pure, no I/O, no clock.

A credit is an integer count of ``rules.unit`` (10**credit_decimals) per point, rounded
half to even once per question: sums are exact, two equal totals are a real tie.
Answers are the stored shapes of docs/protocol.md (choices 0-based, ZAP points in
0..1, QROC text, TCS scale); ``None`` is a question left unanswered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
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


def credit_of(key: AnswerKey, rules: Rules) -> Callable[[dict[str, Any] | None], int]:
    """``score(key, answer, rules).credit`` as a function of the answer alone.

    What depends only on the key and the rules (its sets, the credit of each count) is
    computed once, and no rule text is written: a correction calls it once per distinct
    answer, about 200,000 times at national scale. ``score`` stays the reference (the
    traces, the tests): the two agree on every answer.
    """
    fr = rules.formats[key.format]
    unanswered = _credit(rules.unanswered_credit, rules)
    if fr.rule in ("single_answer", "discordances", "right_over_expected"):
        choose = _choice_credit(key, fr, rules)
    elif fr.rule == "all_zones":
        choose = _zones_credit(key, fr, rules)
    elif fr.rule == "normalised_match":
        accepted = frozenset(normalise(a) for a in key.accepted)
        one = rules.unit

        def choose(answer: dict[str, Any]) -> int:
            return one if normalise(str(answer["text"])) in accepted else 0
    else:
        choose = _panel_credit(key, rules)

    def credit(answer: dict[str, Any] | None) -> int:
        if answer is None:
            return unanswered
        try:
            return choose(answer)
        except (KeyError, TypeError, ValueError):
            return 0

    return credit


def _choice_credit(key: AnswerKey, fr: FormatRule, rules: Rules) -> Callable[[Any], int]:
    one = rules.unit
    right = frozenset(key.right)
    inacceptable = frozenset(key.inacceptable) if fr.zero_if_inacceptable_ticked else frozenset()
    indispensable = (
        frozenset(key.indispensable) if fr.zero_if_indispensable_unticked else frozenset()
    )
    if fr.rule == "single_answer":
        return lambda answer: one if {int(i) for i in answer["choices"]} == right else 0
    if fr.rule == "discordances":
        by_count = [_credit(v, rules) for v in fr.credit_by_discordances]
    else:  # right over expected: by the count of right ones ticked (no right one: 0)
        expected = len(right) or 1
        by_count = [_credit(Fraction(g, expected), rules) for g in range(len(right) + 1)]
    count_wrong = fr.rule == "discordances"

    def choose(answer: Any) -> int:
        ticked = {int(i) for i in answer["choices"]}
        if (inacceptable and ticked & inacceptable) or (indispensable and indispensable - ticked):
            return 0
        n = len(ticked ^ right) if count_wrong else len(ticked & right)
        return by_count[n] if n < len(by_count) else 0

    return choose


def _zones_credit(key: AnswerKey, fr: FormatRule, rules: Rules) -> Callable[[Any], int]:
    one = rules.unit
    zones = tuple(enumerate(key.zones))
    stray_zero = fr.stray_points == "zero"

    def choose(answer: Any) -> int:
        points = [(float(x), float(y)) for x, y in answer["points"]]
        hit: set[int] = set()
        stray = False
        for x, y in points:
            inside = False
            for n, (x0, y0, x1, y1) in zones:
                if x0 <= x <= x1 and y0 <= y <= y1:
                    hit.add(n)
                    inside = True
            stray = stray or not inside
        if len(hit) < len(zones) or (stray and stray_zero):
            return 0
        return one

    return choose


def _panel_credit(key: AnswerKey, rules: Rules) -> Callable[[Any], int]:
    if not key.panel:  # ``score`` finds no modal answer: unreadable, 0
        return lambda answer: 0
    modal = max(key.panel.count(v) for v in set(key.panel))
    by_scale = {v: _credit(Fraction(key.panel.count(v), modal), rules) for v in set(key.panel)}
    return lambda answer: by_scale.get(int(answer["scale"]), 0)
