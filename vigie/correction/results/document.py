"""What a correction gives: each candidate's points and rank, their marks as exact text
(no float: a rounding must not move a candidate), and the JSON results document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from vigie.demo import Unit

from ..rules import Rules
from .sitting import Decisions, Neutralisation, Person


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
