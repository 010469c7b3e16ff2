"""What a correction reads: the candidates, what they sat and answered, the jury's decisions
(a question neutralised, a unit replaced by its backup) and so the units to score."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigie.demo import Session, Unit

from ..keys import AnswerKey


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
