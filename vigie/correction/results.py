"""Marks and ranking of every candidate: pure, from the answers, the keys and the rules.

Points are exact integers (``rules.unit`` per point of credit, times the question's
weight), so a tie is a real tie. The ranking compares, in order (arrêté du 20 juillet
2015, art. 11): the global total, then each unit's total in the session's order, then
the birth date (the older candidate first). Candidates still equal after that share
their rank; they are listed by candidate id so that the output never varies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import orjson

from vigie.demo import Session, Unit

from .keys import AnswerKey, Rank
from .rules import Rules
from .scoring import Scored, score


@dataclass(frozen=True, slots=True)
class Person:
    candidate_id: str
    centre: str
    birth_date: str  # ISO


@dataclass(frozen=True, slots=True)
class Neutralisation:
    question_id: str
    reason: str
    actor: str = ""
    ts: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": "neutralise", "question_id": self.question_id, "reason": self.reason,
                "actor": self.actor, "ts": self.ts}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Replacement:
    unit_id: str  # the cancelled unit
    backup_id: str  # the unit sat in its place
    reason: str
    actor: str = ""
    ts: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": "replace_unit", "unit_id": self.unit_id, "backup_id": self.backup_id,
                "reason": self.reason, "actor": self.actor, "ts": self.ts}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decisions:
    neutralised: tuple[Neutralisation, ...] = ()
    replacements: tuple[Replacement, ...] = ()

    def to_json(self) -> list[dict[str, Any]]:
        return [d.to_json() for d in self.neutralised] + [d.to_json() for d in self.replacements]

    def neutralised_ids(self) -> dict[str, Neutralisation]:
        return {n.question_id: n for n in self.neutralised}


@dataclass(frozen=True, slots=True)
class Sitting:
    """What was sat: the inputs of a correction, whatever they were read from."""

    session: Session
    keys: Mapping[str, AnswerKey]
    people: Sequence[Person]
    # candidate -> question -> the last stored answer, as its stored JSON text
    answers: Mapping[str, Mapping[str, str]]
    # (candidate, unit) that finished; an answer in the unit also makes a candidate present
    present: frozenset[tuple[str, str]]
    units: tuple[str, ...]  # the units to correct, in the session's order
    decisions: Decisions = Decisions()
    source: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CandidateResult:
    person: Person
    unit_points: list[int]
    present: list[bool]
    rank_a: int = 0
    rank_b: int = 0
    total: int = 0
    rank: int | None = None  # None: not ranked (absent)
    decided_by: str = ""  # what placed this candidate after the one above

    @property
    def candidate_id(self) -> str:
        return self.person.candidate_id


@dataclass(slots=True)
class Results:
    rules: Rules
    units: list[Unit]
    unit_max: list[int]
    rank_a_max: int
    rank_b_max: int
    total_max: int
    decisions: Decisions
    source: Mapping[str, Any]
    candidates: list[CandidateResult]  # roster order
    ranking: list[CandidateResult]  # ranked ones, best first
    neutralised: dict[str, Neutralisation]
    # question -> stored answer text -> weighted points (every distinct answer scored once);
    # ``blank``: the points of an unanswered question. Kept for the question analysis.
    memo: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    blank: dict[str, int] = field(default_factory=dict, repr=False)
    # question -> each candidate's weighted points (``candidates`` order); how many answered
    columns: dict[str, list[int]] = field(default_factory=dict, repr=False)
    answered: dict[str, int] = field(default_factory=dict, repr=False)

    # --- marks: Fractions, shown with rules.mark_decimals --------------------------------
    def mark(self, points: int, maximum: int) -> Fraction:
        if maximum == 0:
            return Fraction(0)
        return Fraction(points * self.rules.mark_scale, maximum)

    def show(self, value: Fraction, comma: bool = False) -> str:
        return ratio_text(value.numerator, value.denominator, self.rules.mark_decimals, comma)

    def mark_text(self, points: int, maximum: int, comma: bool = False) -> str:
        """``show(mark(points, maximum))`` in integers only (the documents call it a lot)."""
        if maximum == 0:
            return ratio_text(0, 1, self.rules.mark_decimals, comma)
        return ratio_text(points * self.rules.mark_scale, maximum, self.rules.mark_decimals, comma)

    def points_text(self, points: int, comma: bool = False) -> str:
        return ratio_text(points, self.rules.unit, self.rules.mark_decimals, comma)

    def global_mark(self, c: CandidateResult) -> Fraction:
        return self.mark(c.total, self.total_max)

    def rank_a_mark(self, c: CandidateResult) -> Fraction:
        return self.mark(c.rank_a, self.rank_a_max)

    def rank_b_mark(self, c: CandidateResult) -> Fraction:
        return self.mark(c.rank_b, self.rank_b_max)

    def meets_rank_a_minimum(self, c: CandidateResult) -> bool:
        low = self.rules.rank_a_minimum
        return c.rank_a * self.rules.mark_scale * low.denominator >= low.numerator * self.rank_a_max

    def matching_share(self, c: CandidateResult) -> Fraction:
        """The EDN part of the matching mark, on 100 (60 % by default)."""
        return self.global_mark(c) / self.rules.mark_scale * 100 * self.rules.edn_share

    def matching_share_text(self, c: CandidateResult, comma: bool = False) -> str:
        share = self.rules.edn_share
        if self.total_max == 0:
            return ratio_text(0, 1, self.rules.mark_decimals, comma)
        num = c.total * 100 * share.numerator
        return ratio_text(num, self.total_max * share.denominator, self.rules.mark_decimals, comma)

    def header(self) -> dict[str, Any]:
        return {
            "rules": self.rules.to_json(),
            "units": [
                {
                    "unit_id": u.id,
                    "title": u.title,
                    "max_points": self.show(Fraction(m, self.rules.unit)),
                }
                for u, m in zip(self.units, self.unit_max, strict=True)
            ],
            "decisions": self.decisions.to_json(),
            "source": dict(self.source),
            "candidates": len(self.candidates),
            "ranked": len(self.ranking),
        }

    def row(self, c: CandidateResult) -> dict[str, Any]:
        return {
            "rank": c.rank,
            "candidate_id": c.candidate_id,
            "centre": c.person.centre,
            "birth_date": c.person.birth_date,
            "units": {
                unit.id: {
                    "present": p,
                    "points": self.points_text(pts),
                    "mark": self.mark_text(pts, m),
                }
                for unit, pts, m, p in zip(
                    self.units, c.unit_points, self.unit_max, c.present, strict=True
                )
            },
            "rank_a_mark": self.mark_text(c.rank_a, self.rank_a_max),
            "rank_b_mark": self.mark_text(c.rank_b, self.rank_b_max),
            "global_mark": self.mark_text(c.total, self.total_max),
            "rank_a_minimum_met": self.meets_rank_a_minimum(c),
            "matching_share": self.matching_share_text(c),
            "decided_by": c.decided_by,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.header(), "ranking": [self.row(c) for c in self.ranking],
                "not_ranked": [self.row(c) for c in self.candidates if c.rank is None]}  # fmt: skip


def ratio_text(num: int, den: int, decimals: int, comma: bool = False) -> str:
    """num/den with ``decimals`` decimals, rounded half to even, exactly (no float)."""
    if den < 0:
        num, den = -num, -den
    q, r = divmod(abs(num) * 10**decimals, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    whole, frac = divmod(q, 10**decimals)
    sign = "-" if num < 0 and q else ""
    text = f"{sign}{whole}.{frac:0{decimals}d}" if decimals else f"{sign}{whole}"
    return text.replace(".", ",") if comma else text


def corrected_units(session: Session, units: Iterable[str], decisions: Decisions) -> list[Unit]:
    """The units scored, in the session's order; a cancelled unit gives way to its backup."""
    wanted = set(units)
    by_id = {u.id: u for u in session.units}
    replaced = {r.unit_id: r.backup_id for r in decisions.replacements}
    out: list[Unit] = []
    for u in session.units:
        if u.id in wanted and u.id not in replaced.values():
            target = replaced.get(u.id, u.id)
            out.append(by_id[target])
    return out


def correct(sitting: Sitting, rules: Rules) -> Results:
    units = corrected_units(sitting.session, sitting.units, sitting.decisions)
    neutralised = sitting.decisions.neutralised_ids()
    one = rules.unit
    full_credit = rules.neutralised == "full_credit"
    # Per unit: the scored questions, (id, is rank A, weight, key); neutralised ones apart.
    plan: list[list[tuple[str, bool, int, AnswerKey]]] = []
    fixed: list[tuple[int, int, int]] = []  # per unit: points everyone gets (all, A, B)
    set_aside: list[list[str]] = []  # per unit: neutralised questions (an answer still counts
    # as presence)
    unit_max: list[int] = []
    a_max = b_max = 0
    for u in units:
        qs: list[tuple[str, bool, int, AnswerKey]] = []
        free = free_a = free_b = 0
        m = 0
        for q in u.questions:
            k = sitting.keys[q.id]
            is_a = k.rank is Rank.A
            if q.id in neutralised:
                if not full_credit:
                    continue
                pts = one * k.weight
                free += pts
                free_a += pts if is_a else 0
                free_b += 0 if is_a else pts
            else:
                qs.append((q.id, is_a, k.weight, k))
            m += one * k.weight
            if is_a:
                a_max += one * k.weight
            else:
                b_max += one * k.weight
        plan.append(qs)
        set_aside.append([q.id for q in u.questions if q.id in neutralised])
        fixed.append((free, free_a, free_b))
        unit_max.append(m)
    # One score per distinct stored answer to a question (most candidates share answers),
    # and each question's points as a column (candidates in roster order) for the analysis.
    memo: dict[str, dict[str, int]] = {}
    blank: dict[str, int] = {}
    columns: dict[str, list[int]] = {}
    counts: dict[str, list[int]] = {}
    steps: list[list[tuple[Any, ...]]] = []
    for qs in plan:
        unit_steps: list[tuple[Any, ...]] = []
        for qid, is_a, weight, k in qs:
            memo[qid], columns[qid], counts[qid] = {}, [], [0]
            blank[qid] = score(k, None, rules).credit * weight
            unit_steps.append(
                (qid, is_a, weight, k, memo[qid], blank[qid], columns[qid].append, counts[qid])
            )
        steps.append(unit_steps)
    results: list[CandidateResult] = []
    empty: Mapping[str, str] = {}
    for person in sitting.people:
        cid = person.candidate_id
        mine = sitting.answers.get(cid, empty)
        res = CandidateResult(person, [], [])
        for u, qsteps, aside, (free, free_a, free_b) in zip(
            units, steps, set_aside, fixed, strict=True
        ):
            tot, ta, tb = free, free_a, free_b
            answered = False
            for qid, is_a, weight, k, seen, blank_pts, keep, count in qsteps:
                text = mine.get(qid)
                if text is None:
                    pts = blank_pts
                else:
                    answered = True
                    count[0] += 1
                    got = seen.get(text)
                    if got is None:
                        got = seen[text] = score(k, parse_answer(text), rules).credit * weight
                    pts = got
                keep(pts)
                tot += pts
                if is_a:
                    ta += pts
                else:
                    tb += pts
            if not answered:
                answered = (cid, u.id) in sitting.present or any(q in mine for q in aside)
            res.unit_points.append(tot)
            res.present.append(answered)
            res.rank_a += ta
            res.rank_b += tb
            res.total += tot
        results.append(res)
    ranking = _rank(results, units, rules)
    return Results(
        rules, units, unit_max, a_max, b_max, sum(unit_max), sitting.decisions,
        sitting.source, results, ranking, neutralised, memo, blank, columns,
        {q: n[0] for q, n in counts.items()},
    )  # fmt: skip


def parse_answer(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    doc = orjson.loads(text)
    return doc if isinstance(doc, dict) else {}


def _rank(results: list[CandidateResult], units: list[Unit], rules: Rules) -> list[CandidateResult]:
    ranked = [c for c in results if rules.rank_absent or all(c.present)]

    def order(c: CandidateResult) -> tuple[Any, ...]:
        return (-c.total, *(-p for p in c.unit_points), c.person.birth_date, c.candidate_id)

    ranked.sort(key=order)
    prev: CandidateResult | None = None
    for n, c in enumerate(ranked, 1):
        if prev is None:
            c.rank, c.decided_by = 1, ""
        else:
            c.decided_by = _tie_reason(prev, c, units)
            c.rank = prev.rank if c.decided_by == "ex æquo" else n
        prev = c
    return ranked


def _tie_reason(above: CandidateResult, c: CandidateResult, units: list[Unit]) -> str:
    if above.total != c.total:
        return "note globale"
    for u, a, b in zip(units, above.unit_points, c.unit_points, strict=True):
        if a != b:
            return f"note {u.id}"
    if above.person.birth_date != c.person.birth_date:
        return "âge"
    return "ex æquo"


# --- the per-candidate trace, for appeals ----------------------------------------------
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
    if answer is None:
        return "—"
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
