"""Answer keys of the demo exam, deterministic from the seed, for every question format.

The keys are drawn from their own random stream (``"{seed}:key:{question id}"``), never
from the stream that draws the questions: adding or changing keys leaves every
question, every package and its sha256 byte-identical. A key never travels in a
package nor through a candidate route; only the correction and the jury read it.

Per format (docs/correction.md):

- QRU: one right proposition; QRM: 1 to n-1 right; QRP and QRPL: exactly the stated
  number. Some right ones are *indispensable* (unticked: 0 for the question), some
  wrong ones *inacceptable* (ticked: 0 for the question).
- ZAP: 1 to 3 rectangular target zones, in image coordinates within 0..1.
- QROC: the accepted answers (a term and its usual abbreviation or variants).
- TCS: the answers of a reference panel of 15 experts on the -2..+2 scale.

Every question is tagged rank A or rank B; LCA questions weigh 2, the others 1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vigie.demo import Question, Session, Unit
from vigie.protocol import QuestionFormat, UnitKind

PANEL_SIZE = 15
RANK_A_SHARE = 0.6
CHOICE_FORMATS = frozenset(
    {QuestionFormat.QRU, QuestionFormat.QRM, QuestionFormat.QRP, QuestionFormat.QRPL}
)
# QROC accepted answers: terms that never occur in the generated question texts.
_QROC_TERMS: tuple[tuple[str, ...], ...] = (
    ("Embolie pulmonaire", "EP"),
    ("Infarctus du myocarde", "IDM", "Infarctus myocardique"),
    ("Pneumopathie franche lobaire aiguë", "PFLA"),
    ("Méningite à pneumocoque",),
    ("Amoxicilline",),
    ("Héparine non fractionnée", "HNF"),
    ("Appendicite aiguë",),
    ("Fibrillation atriale", "FA", "Fibrillation auriculaire"),
    ("Acidocétose diabétique",),
    ("Œdème aigu du poumon", "OAP"),
    ("Hyperkaliémie",),
    ("Syndrome néphrotique",),
    ("Ponction lombaire", "PL"),
    ("Thrombose veineuse profonde", "TVP", "Phlébite"),
    ("Pyélonéphrite aiguë", "PNA"),
    ("Adrénaline", "Épinéphrine"),
    ("Dissection aortique",),
    ("Péricardite aiguë",),
)


class Rank(StrEnum):
    A = "A"
    B = "B"


Zone = tuple[float, float, float, float]  # x0, y0, x1, y1 within 0..1


@dataclass(frozen=True, slots=True)
class AnswerKey:
    question_id: str
    unit_id: str
    format: QuestionFormat
    rank: Rank
    weight: int
    right: tuple[int, ...] = ()  # choice formats: the right propositions (0-based)
    indispensable: tuple[int, ...] = ()  # among ``right``
    inacceptable: tuple[int, ...] = ()  # among the wrong ones
    zones: tuple[Zone, ...] = ()  # ZAP
    accepted: tuple[str, ...] = ()  # QROC
    panel: tuple[int, ...] = ()  # TCS: each panellist's answer, -2..2

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "question_id": self.question_id,
            "unit_id": self.unit_id,
            "format": self.format.value,
            "rank": self.rank.value,
            "weight": self.weight,
        }
        if self.format in CHOICE_FORMATS:
            doc.update(
                right=list(self.right),
                indispensable=list(self.indispensable),
                inacceptable=list(self.inacceptable),
            )
        elif self.format is QuestionFormat.ZAP:
            doc["zones"] = [list(z) for z in self.zones]
        elif self.format is QuestionFormat.QROC:
            doc["accepted"] = list(self.accepted)
        else:
            doc["panel"] = list(self.panel)
        return doc


def session_keys(session: Session) -> dict[str, AnswerKey]:
    """Every question's key, by question id (ids are unique across the session)."""
    return {q.id: k for u in session.units for q, k in unit_keys(session.seed, u).items()}


def unit_keys(seed: int, unit: Unit) -> dict[Question, AnswerKey]:
    return {q: question_key(seed, unit, q) for q in unit.questions}


def question_key(seed: int, unit: Unit, q: Question) -> AnswerKey:
    rng = random.Random(f"{seed}:key:{q.id}")
    rank = Rank.A if rng.random() < RANK_A_SHARE else Rank.B
    weight = 2 if unit.kind is UnitKind.LCA else 1
    if q.format in CHOICE_FORMATS:
        right, indispensable, inacceptable = _choices(q, rng)
        return AnswerKey(
            q.id, unit.id, q.format, rank, weight,
            right=right, indispensable=indispensable, inacceptable=inacceptable,
        )  # fmt: skip
    if q.format is QuestionFormat.ZAP:
        return AnswerKey(q.id, unit.id, q.format, rank, weight, zones=_zones(rng))
    if q.format is QuestionFormat.QROC:
        return AnswerKey(q.id, unit.id, q.format, rank, weight, accepted=rng.choice(_QROC_TERMS))
    return AnswerKey(q.id, unit.id, q.format, rank, weight, panel=_panel(rng))


def _choices(q: Question, rng: random.Random) -> tuple[tuple[int, ...], ...]:
    n = len(q.propositions)
    if q.format is QuestionFormat.QRU:
        count = 1
    elif q.expected_count is not None:
        count = q.expected_count
    else:
        count = rng.randint(1, max(1, n - 1))
    right = tuple(sorted(rng.sample(range(n), count)))
    wrong = [i for i in range(n) if i not in right]
    indispensable: tuple[int, ...] = ()
    if q.format is not QuestionFormat.QRU and rng.random() < 0.3:
        indispensable = (rng.choice(right),)
    inacceptable: tuple[int, ...] = ()
    if wrong and rng.random() < 0.3:
        inacceptable = (rng.choice(wrong),)
    return right, indispensable, inacceptable


def _zones(rng: random.Random) -> tuple[Zone, ...]:
    """1-3 zones, each inside its own cell of a 3x3 grid: they never overlap."""
    cells = rng.sample(range(9), rng.randint(1, 3))
    zones: list[Zone] = []
    for cell in sorted(cells):
        cx, cy = (cell % 3) / 3, (cell // 3) / 3
        w, h = rng.uniform(0.12, 0.3), rng.uniform(0.12, 0.3)
        x0, y0 = cx + rng.uniform(0, 1 / 3 - w), cy + rng.uniform(0, 1 / 3 - h)
        zones.append((round(x0, 3), round(y0, 3), round(x0 + w, 3), round(y0 + h, 3)))
    return tuple(zones)


def _panel(rng: random.Random) -> tuple[int, ...]:
    """15 experts around a modal opinion: most agree, some one step off, a few further."""
    modal = rng.randint(-2, 2)
    answers: list[int] = []
    for _ in range(PANEL_SIZE):
        step = rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0] * rng.choice((-1, 1))
        answers.append(max(-2, min(2, modal + step)))
    return tuple(answers)
