"""The scoring rules, loaded from a YAML file and checked: named, versioned and hashed.

The defaults ship as ``default_rules.yaml`` next to this module; ``vigie correct
--rules FILE`` and the server's ``correction_rules`` setting take another one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from vigie.protocol import QuestionFormat

DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.yaml")

RULES_BY_FORMAT: dict[str, frozenset[QuestionFormat]] = {
    "single_answer": frozenset({QuestionFormat.QRU}),
    "discordances": frozenset(
        {QuestionFormat.QRU, QuestionFormat.QRM, QuestionFormat.QRP, QuestionFormat.QRPL}
    ),
    "right_over_expected": frozenset({QuestionFormat.QRP, QuestionFormat.QRPL}),
    "all_zones": frozenset({QuestionFormat.ZAP}),
    "normalised_match": frozenset({QuestionFormat.QROC}),
    "panel_share": frozenset({QuestionFormat.TCS}),
}
NEUTRALISED = ("removed", "full_credit")


class RulesError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FormatRule:
    rule: str
    credit_by_discordances: tuple[Fraction, ...] = ()
    zero_if_inacceptable_ticked: bool = False
    zero_if_indispensable_unticked: bool = False
    stray_points: str = "zero"

    def describe(self) -> str:
        if self.rule == "discordances":
            table = ", ".join(f"{i}→{_num(c)}" for i, c in enumerate(self.credit_by_discordances))
            return f"discordances ({table}, ≥{len(self.credit_by_discordances)}→0)"
        return self.rule


@dataclass(frozen=True, slots=True)
class Rules:
    name: str
    version: str
    sha256: str
    description: str
    sources: tuple[str, ...]
    formats: dict[QuestionFormat, FormatRule]
    unanswered_credit: Fraction
    neutralised: str
    credit_decimals: int
    mark_scale: int
    mark_decimals: int
    rank_a_minimum: Fraction
    edn_share: Fraction
    rank_absent: bool
    raw: dict[str, Any] = field(compare=False, default_factory=dict)

    @property
    def unit(self) -> int:
        """Integer points per unit of credit: totals are exact integers, ties are real."""
        return int(10**self.credit_decimals)

    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


def _num(x: Fraction) -> str:
    return str(float(x)).removesuffix(".0")


def _fraction(value: Any, what: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RulesError(f"{what} must be a number")
    try:
        return Fraction(str(value))
    except ValueError as exc:
        raise RulesError(f"{what} must be a number") from exc


def load_rules(path: Path | None = None) -> Rules:
    path = path or DEFAULT_RULES_PATH
    data = path.read_bytes()
    return parse_rules(data, str(path))


def parse_rules(data: bytes, where: str = "rules") -> Rules:
    doc = yaml.safe_load(data)
    if not isinstance(doc, dict):
        raise RulesError(f"{where}: a mapping is expected")
    try:
        return _parse(doc, hashlib.sha256(data).hexdigest())
    except (KeyError, TypeError) as exc:
        raise RulesError(f"{where}: missing or ill-typed entry {exc}") from exc


def _parse(doc: dict[str, Any], sha: str) -> Rules:
    formats: dict[QuestionFormat, FormatRule] = {}
    for fmt in QuestionFormat:
        spec = doc["formats"][fmt.value]
        rule = spec["rule"]
        if rule not in RULES_BY_FORMAT or fmt not in RULES_BY_FORMAT[rule]:
            raise RulesError(f"rule {rule!r} does not apply to {fmt.value}")
        table = tuple(
            _fraction(v, f"{fmt.value} credit") for v in spec.get("credit_by_discordances", ())
        )
        if rule == "discordances" and not table:
            raise RulesError(f"{fmt.value}: credit_by_discordances is required")
        if any(not 0 <= c <= 1 for c in table):
            raise RulesError(f"{fmt.value}: credits are within 0..1")
        stray = spec.get("stray_points", "zero")
        if stray not in ("zero", "ignore"):
            raise RulesError("stray_points is 'zero' or 'ignore'")
        formats[fmt] = FormatRule(
            rule=rule,
            credit_by_discordances=table,
            zero_if_inacceptable_ticked=bool(spec.get("zero_if_inacceptable_ticked", False)),
            zero_if_indispensable_unticked=bool(spec.get("zero_if_indispensable_unticked", False)),
            stray_points=stray,
        )
    neutralised = doc["neutralised"]
    if neutralised not in NEUTRALISED:
        raise RulesError(f"neutralised is one of {', '.join(NEUTRALISED)}")
    decimals = int(doc["credit_decimals"])
    if not 0 <= decimals <= 9:
        raise RulesError("credit_decimals is within 0..9")
    return Rules(
        name=str(doc["name"]),
        version=str(doc["version"]),
        sha256=sha,
        description=str(doc.get("description", "")).strip(),
        sources=tuple(str(s) for s in doc.get("sources", ())),
        formats=formats,
        unanswered_credit=_fraction(doc["unanswered_credit"], "unanswered_credit"),
        neutralised=neutralised,
        credit_decimals=decimals,
        mark_scale=int(doc["mark_scale"]),
        mark_decimals=int(doc["mark_decimals"]),
        rank_a_minimum=_fraction(doc["rank_a_minimum"], "rank_a_minimum"),
        edn_share=_fraction(doc["edn_share_of_matching_mark"], "edn_share_of_matching_mark"),
        rank_absent=bool(doc.get("rank_absent", False)),
        raw=doc,
    )
