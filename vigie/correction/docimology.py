"""Question analysis for the jury president: success, discrimination, mark distributions.

- **Success rate** of a question: the mean credit (0..1) of the candidates present in its unit.
- **Discrimination index** (upper-lower groups): the mean credit of the best 27 % of the
  present candidates (by global total) minus that of the weakest 27 %. Near 0 a question does
  not separate strong from weak candidates; below 0 the weak do better than the strong, a sign
  of a wrong key or an ambiguous statement.
- **To look at**: negative discrimination, or a success rate under 5 %: candidates for
  neutralisation.
- **Distribution** of each unit's marks on 20, in 20 one-point bins, with mean and spread.

Neutralised questions are analysed too (as scored before the decision), and said so.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .results import Results, Sitting, parse_answer
from .scoring import score

GROUP_SHARE = Fraction(27, 100)
LOW_SUCCESS = 0.05


@dataclass(frozen=True, slots=True)
class QuestionStats:
    unit_id: str
    question_id: str
    format: str
    rank: str
    weight: int
    answered: int  # present candidates who answered it
    present: int
    success: float  # mean credit 0..1 over present candidates
    discrimination: float
    flags: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "question_id": self.question_id, "format": self.format,
                "rank": self.rank, "weight": self.weight, "answered": self.answered,
                "present": self.present, "success": round(self.success, 4),
                "discrimination": round(self.discrimination, 4), "flags": list(self.flags)}  # fmt: skip


def _pick_sum(col: list[int], idx: list[int]) -> int:
    if not idx:
        return 0
    if len(idx) == len(col):
        return sum(col)
    picked = operator.itemgetter(*idx)(col)
    return sum(picked) if len(idx) > 1 else int(picked)


def _column(sitting: Sitting, results: Results, qid: str) -> list[int]:
    k = sitting.keys[qid]
    seen: dict[str | None, int] = {}
    out: list[int] = []
    for c in results.candidates:
        text = sitting.answers.get(c.candidate_id, {}).get(qid)
        got = seen.get(text)
        if got is None:
            got = seen[text] = score(k, parse_answer(text), results.rules).credit * k.weight
        out.append(got)
    return out


def analyse(sitting: Sitting, results: Results) -> dict[str, Any]:
    rules = results.rules
    order = sorted(
        (c for c in results.candidates if any(c.present)),
        key=lambda c: (-c.total, c.candidate_id),
    )
    size = int(len(order) * GROUP_SHARE)
    upper = {c.candidate_id for c in order[:size]}
    lower = {c.candidate_id for c in order[len(order) - size :]} if size else set()
    stats: list[QuestionStats] = []
    index = {c.candidate_id: i for i, c in enumerate(results.candidates)}
    up_idx = sorted(index[c] for c in upper)
    low_idx = sorted(index[c] for c in lower)
    empty: dict[str, str] = {}
    for ui, u in enumerate(results.units):
        here = [i for i, c in enumerate(results.candidates) if c.present[ui]]
        for q in u.questions:
            k = sitting.keys[q.id]
            full = rules.unit * k.weight
            col = results.columns.get(q.id)
            if col is None:  # neutralised: scored here, as it would have been
                col = _column(sitting, results, q.id)
                answered = sum(
                    1 for c in results.candidates
                    if sitting.answers.get(c.candidate_id, empty).get(q.id) is not None
                )  # fmt: skip
            else:
                answered = results.answered[q.id]
            total = _pick_sum(col, here)
            up, low = _pick_sum(col, up_idx), _pick_sum(col, low_idx)
            success = total / (full * len(here)) if here else 0.0
            disc = (up - low) / (full * size) if size else 0.0
            flags: list[str] = []
            if q.id in results.neutralised:
                flags.append("neutralisée")
            if disc < 0:
                flags.append("discrimination négative")
            if here and success < LOW_SUCCESS:
                flags.append("réussite quasi nulle")
            stats.append(
                QuestionStats(
                    u.id,
                    q.id,
                    k.format.value,
                    k.rank.value,
                    k.weight,
                    answered,
                    len(here),
                    success,
                    disc,
                    tuple(flags),
                )
            )
    units = []
    scale = rules.mark_scale
    for ui, u in enumerate(results.units):
        top = results.unit_max[ui] or 1
        marks = [c.unit_points[ui] * scale / top for c in results.candidates if c.present[ui]]
        bins = [0] * scale
        for m in marks:
            bins[min(int(m), scale - 1)] += 1
        mean = math.fsum(marks) / len(marks) if marks else 0.0
        var = math.fsum((m - mean) ** 2 for m in marks) / len(marks) if marks else 0.0
        units.append(
            {
                "unit_id": u.id,
                "present": len(marks),
                "mean": f"{mean:.3f}",
                "sd": f"{math.sqrt(var):.3f}",
                "bins": [{"from": i, "to": i + 1, "count": n} for i, n in enumerate(bins)],
            }
        )
    return {
        "rules": rules.to_json(),
        "group_share": float(GROUP_SHARE),
        "questions": [s.to_json() for s in stats],
        "to_look_at": [s.question_id for s in stats if set(s.flags) - {"neutralisée"}],
        "units": units,
    }
