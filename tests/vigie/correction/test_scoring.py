"""Scoring rules: hand-computed cases for every format, then properties (hypothesis)."""

from __future__ import annotations

import functools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.correction.keys import AnswerKey, Rank, Zone
from vigie.correction.rules import Rules, RulesError, load_rules, parse_rules
from vigie.correction.scoring import credit_of, normalise, score
from vigie.protocol import QuestionFormat as F

RULES = load_rules()
ONE = RULES.unit


def key(fmt: F, **kw: object) -> AnswerKey:
    return AnswerKey("ue1-q001", "ue1", fmt, Rank.A, 1, **kw)  # type: ignore[arg-type]


def credit(k: AnswerKey, answer: dict[str, object] | None) -> Fraction:
    return Fraction(score(k, answer, RULES).credit, ONE)


def ch(*i: int) -> dict[str, object]:
    return {"choices": list(i)}


# --- worked examples -------------------------------------------------------------------
def test_default_rules_are_named_versioned_and_hashed() -> None:
    assert RULES.name == "vigie-edn" and RULES.version == "1.0" and len(RULES.sha256) == 64
    assert RULES.label() == "vigie-edn v1.0" and RULES.rank_a_minimum == 14
    assert RULES.formats[F.QRM].credit_by_discordances == (
        Fraction(1),
        Fraction(1, 2),
        Fraction(1, 5),
    )


def test_qrm_discordances() -> None:
    k = key(F.QRM, right=(0, 2))  # five propositions, A and C right
    assert credit(k, ch(0, 2)) == 1
    assert credit(k, ch(0)) == Fraction(1, 2)  # C missed: 1 discordance
    assert credit(k, ch(0, 1, 2)) == Fraction(1, 2)  # B ticked: 1 discordance
    assert credit(k, ch(0, 1)) == Fraction(1, 5)  # B ticked, C missed: 2
    assert credit(k, ch(0, 1, 2, 3, 4)) == 0  # every proposition ticked: 3
    assert credit(k, ch(1, 3, 4)) == 0  # 5 discordances
    assert score(k, ch(1, 3, 4), RULES).discordances == 5


def test_qrm_nothing_ticked_counts_its_discordances() -> None:
    k = key(F.QRM, right=(0,))
    assert credit(k, ch()) == Fraction(1, 2)  # one right proposition missed
    assert credit(key(F.QRM, right=(0, 2)), ch()) == Fraction(1, 5)


def test_unanswered_scores_the_unanswered_credit() -> None:
    s = score(key(F.QRM, right=(0,)), None, RULES)
    assert s.credit == 0 and s.rule == "sans réponse"


def test_indispensable_and_inacceptable() -> None:
    k = key(F.QRM, right=(0, 2), indispensable=(2,), inacceptable=(4,))
    assert credit(k, ch(0, 2)) == 1
    assert credit(k, ch(0)) == 0  # C indispensable, unticked: 0 despite 1 discordance
    assert "indispensable" in score(k, ch(0), RULES).rule
    assert credit(k, ch(0, 2, 4)) == 0  # E inacceptable, ticked
    assert "inacceptable" in score(k, ch(0, 2, 4), RULES).rule
    assert credit(k, ch(2)) == Fraction(1, 2)  # A missed, not indispensable


def test_qru() -> None:
    k = key(F.QRU, right=(1,), inacceptable=(3,))
    assert credit(k, ch(1)) == 1 and credit(k, ch(2)) == 0 and credit(k, ch(3)) == 0


def test_qrp() -> None:
    k = key(F.QRP, right=(1, 3))  # "two answers"
    assert credit(k, ch(1, 3)) == 1
    assert credit(k, ch(1, 2)) == Fraction(1, 5)  # 2 discordances
    assert credit(k, ch(0, 2)) == 0  # 4


def test_qrpl_right_over_expected() -> None:
    k = key(F.QRPL, right=(0, 3, 7), inacceptable=(12,))
    assert credit(k, ch(0, 3, 7)) == 1
    assert credit(k, ch(0, 3, 9)) == Fraction(666667, 1_000_000)  # 2/3 rounded to 1e-6
    assert credit(k, ch(1, 2, 4)) == 0
    assert credit(k, ch(0, 3, 12)) == 0  # inacceptable ticked
    assert "2 juste(s) sur 3" in score(k, ch(0, 3, 9), RULES).rule


ZONES: tuple[Zone, ...] = ((0.1, 0.1, 0.3, 0.3), (0.6, 0.6, 0.9, 0.8))


def test_zap_every_zone_pointed() -> None:
    k = key(F.ZAP, zones=ZONES)
    assert credit(k, {"points": [[0.2, 0.2], [0.7, 0.7]]}) == 1
    assert credit(k, {"points": [[0.7, 0.7], [0.1, 0.3]]}) == 1  # order, edges inclusive
    assert credit(k, {"points": [[0.2, 0.2]]}) == 0  # one zone missed
    assert credit(k, {"points": [[0.2, 0.2], [0.7, 0.7], [0.5, 0.5]]}) == 0  # a stray point
    s = score(k, {"points": [[0.5, 0.5]]}, RULES)
    assert s.discordances == 3 and "2 zone(s)" in s.rule


def test_zap_stray_points_may_be_ignored() -> None:
    text = RULES.raw | {}
    text["formats"] = {
        **RULES.raw["formats"],
        "ZAP": {"rule": "all_zones", "stray_points": "ignore"},
    }
    import yaml

    lenient = parse_rules(yaml.safe_dump(text, allow_unicode=True).encode())
    k = key(F.ZAP, zones=ZONES)
    answer = {"points": [[0.2, 0.2], [0.7, 0.7], [0.5, 0.5]]}
    assert score(k, answer, lenient).credit == lenient.unit
    assert lenient.sha256 != RULES.sha256


def test_qroc_normalised_match() -> None:
    k = key(F.QROC, accepted=("Œdème aigu du poumon", "OAP"))
    for given_text in (
        "oedeme aigu du poumon",
        "  ŒDÈME   Aigu du POUMON. ",
        "Oedème-aigu du poumon",
        "oap",
    ):
        assert credit(k, {"text": given_text}) == 1, given_text
    assert credit(k, {"text": "oedeme pulmonaire"}) == 0
    k2 = key(F.QROC, accepted=("Héparine non fractionnée",))
    assert credit(k2, {"text": "HEPARINE NON FRACTIONNEE"}) == 1
    assert normalise("Fibrillation  Atriale") == "fibrillation atriale"


def test_tcs_panel_share_over_modal_share() -> None:
    panel = (1,) * 8 + (0,) * 4 + (2,) * 3  # 15 panellists, modal +1 (8 votes)
    k = key(F.TCS, panel=panel)
    assert credit(k, {"scale": 1}) == 1
    assert credit(k, {"scale": 0}) == Fraction(1, 2)
    assert credit(k, {"scale": 2}) == Fraction(375, 1000)  # 3/8
    assert credit(k, {"scale": -2}) == 0


def test_unreadable_answer_scores_zero() -> None:
    assert credit(key(F.QRM, right=(0,)), {"text": "x"}) == 0


def test_bad_rules_are_refused() -> None:
    import yaml

    for change in (
        {"neutralised": "maybe"},
        {"formats": {**RULES.raw["formats"], "QROC": {"rule": "discordances"}}},
        {"formats": {**RULES.raw["formats"], "QRM": {"rule": "discordances"}}},
        {"credit_decimals": 12},
    ):
        doc = RULES.raw | change
        with pytest.raises(RulesError):
            parse_rules(yaml.safe_dump(doc, allow_unicode=True).encode())


# --- properties ------------------------------------------------------------------------
@st.composite
def choice_case(draw: st.DrawFn) -> tuple[AnswerKey, list[int]]:
    n = draw(st.integers(4, 25))
    fmt = draw(st.sampled_from([F.QRU, F.QRM, F.QRP, F.QRPL]))
    right = sorted(
        draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=1 if fmt is F.QRU else n - 1))
    )
    wrong = [i for i in range(n) if i not in right]
    ind = draw(st.sets(st.sampled_from(right), max_size=1))
    inac = draw(st.sets(st.sampled_from(wrong), max_size=1)) if wrong else set()
    ticked = sorted(draw(st.sets(st.integers(0, n - 1))))
    k = key(fmt, right=tuple(right), indispensable=tuple(ind), inacceptable=tuple(inac))
    return k, ticked


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(choice_case())
def test_choice_credit_is_bounded_and_the_key_scores_full(
    case: tuple[AnswerKey, list[int]],
) -> None:
    k, ticked = case
    s = score(k, ch(*ticked), RULES)
    assert 0 <= s.credit <= ONE
    assert s.discordances == len(set(ticked) ^ set(k.right))
    assert score(k, ch(*k.right), RULES).credit == ONE


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(choice_case())
def test_discordance_rule_follows_its_table(case: tuple[AnswerKey, list[int]]) -> None:
    k, ticked = case
    k = key(F.QRM, right=k.right)  # no indispensable, no inacceptable
    disc = len(set(ticked) ^ set(k.right))
    expected = {0: 1, 1: Fraction(1, 2), 2: Fraction(1, 5)}.get(disc, Fraction(0))
    assert credit(k, ch(*ticked)) == expected


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(choice_case(), st.integers(0, 24))
def test_one_more_discordance_never_scores_more(
    case: tuple[AnswerKey, list[int]], flip: int
) -> None:
    k, ticked = case
    k = key(F.QRM, right=k.right)
    n = max([*k.right, *ticked, flip]) + 1
    base = set(ticked)
    flipped = base ^ {flip}
    if len(flipped ^ set(k.right)) > len(base ^ set(k.right)) and flip < n:
        assert credit(k, ch(*sorted(flipped))) <= credit(k, ch(*sorted(base)))


_ACCENTED = st.sampled_from(["é", "è", "ê", "à", "ç", "ô", "ï", "É", "œ", " ", "-", "a", "B"])


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(st.text(_ACCENTED, min_size=1, max_size=30))
def test_normalise_is_idempotent_and_ignores_case(text: str) -> None:
    n = normalise(text)
    assert normalise(n) == n and normalise(text.upper()) == normalise(text.lower()) == n
    assert n == n.strip() and "  " not in n


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(st.lists(st.integers(-2, 2), min_size=1, max_size=20), st.integers(-2, 2))
def test_tcs_modal_scores_one_and_credit_is_the_share(panel: list[int], answer: int) -> None:
    k = key(F.TCS, panel=tuple(panel))
    modal = max(panel.count(v) for v in panel)
    assert credit(k, {"scale": max(set(panel), key=panel.count)}) == 1
    got = score(k, {"scale": answer}, RULES).credit
    assert got == round(Fraction(panel.count(answer), modal) * ONE)


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=10))
def test_zap_scores_one_exactly_when_all_zones_hit_and_no_stray(
    points: list[tuple[float, float]],
) -> None:
    k = key(F.ZAP, zones=ZONES)

    def inside(p: tuple[float, float], z: Zone) -> bool:
        return z[0] <= p[0] <= z[2] and z[1] <= p[1] <= z[3]

    full = all(any(inside(p, z) for p in points) for z in ZONES) and all(
        any(inside(p, z) for z in ZONES) for p in points
    )
    assert credit(k, {"points": [list(p) for p in points]}) == (1 if full else 0)


# --- the correction's scorer: the same credit as ``score`` on every answer ------------
_ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 30), st.floats(allow_nan=True, allow_infinity=False),
    st.text(max_size=8), st.lists(st.integers(-1, 30), max_size=6),
    st.lists(st.lists(st.floats(-0.5, 1.5), min_size=1, max_size=3), max_size=4),
)  # fmt: skip
_ANSWER = st.one_of(
    st.none(),
    st.fixed_dictionaries({"choices": st.lists(st.integers(0, 25), max_size=8)}),
    st.fixed_dictionaries(
        {"points": st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)).map(list), max_size=5)}
    ),
    st.fixed_dictionaries({"text": st.sampled_from(["EP", "e.p.", "Embolie  pulmonaire", "x"])}),
    st.fixed_dictionaries({"scale": st.integers(-3, 3)}),
    st.dictionaries(st.sampled_from(["choices", "points", "text", "scale"]), _ODD, max_size=2),
)


@st.composite
def any_key(draw: st.DrawFn) -> AnswerKey:
    fmt = draw(st.sampled_from(list(F)))
    if fmt is F.ZAP:
        return key(fmt, zones=draw(st.sampled_from([ZONES, ZONES[:1], ()])))
    if fmt is F.QROC:
        return key(fmt, accepted=("Embolie pulmonaire", "EP"))
    if fmt is F.TCS:
        return key(fmt, panel=tuple(draw(st.lists(st.integers(-2, 2), max_size=15))))
    k, _ = draw(choice_case())
    return key(fmt, right=k.right, indispensable=k.indispensable, inacceptable=k.inacceptable)


@functools.cache
def _variant_rules() -> Rules:
    import yaml

    formats = RULES.raw["formats"] | {
        "QRM": {"rule": "discordances", "credit_by_discordances": [1, 0.3]},
        "QRP": {"rule": "right_over_expected", "zero_if_inacceptable_ticked": True},
        "QRU": {"rule": "discordances", "credit_by_discordances": [1, 0.5]},
        "ZAP": {"rule": "all_zones", "stray_points": "ignore"},
    }
    doc = RULES.raw | {"unanswered_credit": 0.25, "formats": formats}
    return parse_rules(yaml.safe_dump(doc, allow_unicode=True).encode())


@settings(deadline=None)  # a loaded 2-core machine: no per-example deadline
@given(any_key(), _ANSWER, st.sampled_from(["default", "variant"]))
def test_credit_of_agrees_with_score(
    k: AnswerKey, answer: dict[str, object] | None, which: str
) -> None:
    rules = RULES if which == "default" else _variant_rules()
    assert credit_of(k, rules)(answer) == score(k, answer, rules).credit
