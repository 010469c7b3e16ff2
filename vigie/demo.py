"""Deterministic demo exam: roster, access codes and a rule-conformant session.

Shared by the exam server and the fleet, so that neither imports the other. Import-light
on purpose (stdlib, yaml and ``vigie.*`` only): the gevent-patched Locust fleet imports
:func:`access_code` and :func:`roster` from here, and must be able to log in from a
scenario and a seed alone, without a roster file.

The content is synthetic but the shape follows the 2021 EDN rules: three 3-hour
units of 90-110 questions mixing isolated questions and progressive dossiers of
3-8 questions, two 1 h 30 critical-reading (LCA) units of 13-17 progressive
questions, every question format, and small PNG images on some questions so
that packages (and bytes on the wire) have a realistic size.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from vigie.centres import Centre, default_centres
from vigie.protocol import QuestionFormat, UnitKind

STANDARD_DURATION_S = 3 * 3600.0
LCA_DURATION_S = 1.5 * 3600.0
# Planned extra time (tiers-temps): the share of candidates the roster grants it to, and
# what they get, as a share of each unit's duration (one third is the usual award).
TIERS_TEMPS_SHARE = 0.03
TIERS_TEMPS_RATIO = 1 / 3
_STANDARD_FORMATS = (
    # Weights roughly follow the real mix: most questions are QRM.
    (QuestionFormat.QRM, 45),
    (QuestionFormat.QRU, 15),
    (QuestionFormat.QRP, 10),
    (QuestionFormat.QRPL, 8),
    (QuestionFormat.ZAP, 5),
    (QuestionFormat.QROC, 10),
    (QuestionFormat.TCS, 7),
)
_IMAGE_SHARE = 0.08  # share of questions that carry an image (ZAP always does)
_WORDS = tuple(
    [
        "patient",
        "âge",
        "douleur",
        "thoracique",
        "fièvre",
        "toux",
        "dyspnée",
        "antécédents",
        "examen",
        "clinique",
        "biologie",
        "imagerie",
        "scanner",
        "traitement",
        "diagnostic",
        "hypothèse",
        "probable",
        "urgence",
        "surveillance",
        "complication",
        "pronostic",
        "insuffisance",
        "rénale",
        "cardiaque",
        "hépatique",
        "infection",
        "bactérienne",
        "virale",
        "posologie",
        "contre-indication",
        "interaction",
        "bilan",
    ]
)


@dataclass(frozen=True, slots=True)
class CandidateSeed:
    candidate_id: str
    centre: str
    birth_date: str  # ISO date; the older candidate ranks first on ties
    access_code: str
    planned_ratio: float = 0.0  # tiers-temps: extra time as a share of each unit's duration


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    format: QuestionFormat
    index: int  # 0-based position in the unit
    text: str
    propositions: tuple[str, ...] = ()
    expected_count: int | None = None  # QRP / QRPL: the stated number of answers
    dossier_id: str | None = None
    dossier_index: int = 0  # 0-based position in its dossier
    context: str | None = None  # opening text of a dossier (on its first question)
    image_png: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "format": self.format.value,
            "index": self.index,
            "text": self.text,
            "propositions": list(self.propositions),
            "dossier_id": self.dossier_id,
            "dossier_index": self.dossier_index,
        }
        if self.expected_count is not None:
            doc["expected_count"] = self.expected_count
        if self.context is not None:
            doc["context"] = self.context
        if self.image_png is not None:
            doc["image"] = {
                "mime": "image/png",
                "data": base64.b64encode(self.image_png).decode("ascii"),
            }
        return doc

    def locked_stub(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dossier_id": self.dossier_id,
            "index": self.dossier_index,
            "locked": True,
        }


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    title: str
    kind: UnitKind
    duration_s: float
    questions: tuple[Question, ...]
    by_id: Mapping[str, Question] = field(default_factory=dict, compare=False)
    backup: bool = False  # sat only when the jury launches it in place of a cancelled unit

    def previous_in_dossier(self, q: Question) -> Question | None:
        """The question that must be final before ``q`` unlocks (None if ``q`` is open)."""
        if q.dossier_id is None or q.dossier_index == 0:
            return None
        return self.questions[q.index - 1]

    def next_in_dossier(self, q: Question) -> Question | None:
        if q.dossier_id is None or q.index + 1 >= len(self.questions):
            return None
        nxt = self.questions[q.index + 1]
        return nxt if nxt.dossier_id == q.dossier_id else None


@dataclass(frozen=True, slots=True)
class Session:
    seed: int
    units: tuple[Unit, ...]

    def unit(self, unit_id: str) -> Unit | None:
        for u in self.units:
            if u.id == unit_id:
                return u
        return None


# --- roster --------------------------------------------------------------------------
def demo_counts(total: int, centres: Sequence[Centre] | None = None) -> dict[str, int]:
    """Spread ``total`` candidates over the centres by weight (largest remainder, deterministic)."""
    if total < 0:
        raise ValueError("total must be >= 0")
    cs = list(centres if centres is not None else default_centres())
    weight_sum = sum(c.weight for c in cs)
    quotas = [total * c.weight / weight_sum for c in cs]
    counts = [int(q) for q in quotas]
    # Ties broken by centre order so that the result never depends on float noise alone.
    order = sorted(range(len(cs)), key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return {c.code: n for c, n in zip(cs, counts, strict=True)}


def read_demo_counts(path: Path) -> dict[str, int]:
    """A ``--demo-counts`` file: the JSON object ``{"CENTRE": count}``."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in raw.items()
    ):
        raise ValueError(f'{path}: --demo-counts wants a JSON object {{"CENTRE": count}}')
    return raw


def access_code(seed: int, candidate_id: str) -> str:
    """The candidate's access code: an HMAC of its id under the seed (8 characters)."""
    mac = hmac.new(f"vigie-demo-{seed}".encode(), candidate_id.encode(), hashlib.sha256)
    return base64.b32encode(mac.digest()[:5]).decode("ascii")


def connection_test_code(seed: int, centre: str) -> str:
    """A centre's code for the Monday connection test (docs/connection-test.md): derived like
    access codes, under its own label, so it opens the test and nothing else (10 characters)."""
    mac = hmac.new(f"vigie-conntest-{seed}".encode(), centre.encode(), hashlib.sha256)
    return base64.b32encode(mac.digest()[:5]).decode("ascii") + "-T"


def candidate_id(centre: str, n: int) -> str:
    return f"{centre}-{n:05d}"


#: Seats per exam room in the demo roster (a faculty's amphitheatre or tablet room).
ROOM_SEATS = 60


def seat_of(candidate_id: str) -> tuple[str, str] | None:
    """The demo roster's room and seat of ``candidate_id`` (``<CENTRE>-<n>``: room
    ``Salle k`` of ``ROOM_SEATS`` seats, in the candidates' order); None for another id."""
    _, _, number = candidate_id.rpartition("-")
    if not number.isdigit() or int(number) < 1:
        return None
    n = int(number) - 1
    return f"Salle {n // ROOM_SEATS + 1}", f"{n % ROOM_SEATS + 1:02d}"


def planned_ratio(
    seed: int, candidate_id: str, share: float = TIERS_TEMPS_SHARE, ratio: float = TIERS_TEMPS_RATIO
) -> float:
    """The candidate's planned extra time as a share of a unit's duration (0: none).

    A draw of its own per candidate, so that the same seed always gives the same
    candidates tiers-temps, whatever the other centres' counts.
    """
    if share <= 0 or ratio <= 0:
        return 0.0
    draw = random.Random(f"{seed}:{candidate_id}:tiers-temps").random()
    return ratio if draw < share else 0.0


def roster(
    counts: Mapping[str, int],
    seed: int,
    share: float = TIERS_TEMPS_SHARE,
    ratio: float = TIERS_TEMPS_RATIO,
) -> list[CandidateSeed]:
    """Candidates ``<CENTRE>-<n:05d>`` (n from 1) with birth dates, access codes and
    planned extra time (``share`` of them get ``ratio`` of each unit)."""
    out: list[CandidateSeed] = []
    for centre, count in counts.items():
        for n in range(1, count + 1):
            cid = candidate_id(centre, n)
            rng = random.Random(f"{seed}:{cid}")
            birth = date(1997, 1, 1) + timedelta(days=rng.randrange(5 * 365))
            planned = planned_ratio(seed, cid, share, ratio)
            out.append(
                CandidateSeed(cid, centre, birth.isoformat(), access_code(seed, cid), planned)
            )
    return out


# --- session -------------------------------------------------------------------------
#: The backup units: sat only when the jury launches one in place of a cancelled unit.
BACKUP_UNITS = ("ue-secours", "lca-secours")


def generate_session(seed: int) -> Session:
    """Three standard units (ue1..ue3) and two LCA units (lca1, lca2), from ``seed``, then a
    backup of each kind (``ue-secours``, ``lca-secours``), which the tablets neither
    download nor wait for unless the jury launches one (each unit draws from its own
    generator: adding the backups changed nothing in the others)."""
    units = [
        _standard_unit(f"ue{i}", f"Unité {i}", random.Random(f"{seed}:ue{i}")) for i in (1, 2, 3)
    ]
    units += [_lca_unit(f"lca{i}", f"LCA {i}", random.Random(f"{seed}:lca{i}")) for i in (1, 2)]
    ue, lca = BACKUP_UNITS
    units.append(
        replace(_standard_unit(ue, "Unité de secours", random.Random(f"{seed}:{ue}")), backup=True)
    )
    units.append(
        replace(_lca_unit(lca, "LCA de secours", random.Random(f"{seed}:{lca}")), backup=True)
    )
    return Session(seed=seed, units=tuple(units))


def _finish_unit(uid: str, title: str, kind: UnitKind, duration: float, qs: list[Question]) -> Unit:
    return Unit(uid, title, kind, duration, tuple(qs), {q.id: q for q in qs})


def _standard_unit(uid: str, title: str, rng: random.Random) -> Unit:
    total = rng.randint(90, 110)
    qs: list[Question] = []
    dossier_n = 0
    while len(qs) < total:
        left = total - len(qs)
        # About half the questions sit in progressive dossiers, as in the real exam.
        if left >= 3 and rng.random() < 0.12:
            size = min(rng.randint(3, 8), left)
            dossier_n += 1
            did = f"{uid}-d{dossier_n:02d}"
            ctx = _sentence(rng, 40)
            for k in range(size):
                qs.append(_question(uid, len(qs), rng, did, k, ctx if k == 0 else None))
        else:
            qs.append(_question(uid, len(qs), rng, None, 0, None))
    return _finish_unit(uid, title, UnitKind.STANDARD, STANDARD_DURATION_S, qs)


def _lca_unit(uid: str, title: str, rng: random.Random) -> Unit:
    size = rng.randint(13, 17)
    did = f"{uid}-article"
    article = " ".join(_sentence(rng, 60) for _ in range(12))  # the article to read
    qs = [
        _question(uid, k, rng, did, k, article if k == 0 else None, lca=True) for k in range(size)
    ]
    return _finish_unit(uid, title, UnitKind.LCA, LCA_DURATION_S, qs)


def _question(
    uid: str,
    index: int,
    rng: random.Random,
    dossier_id: str | None,
    dossier_index: int,
    context: str | None,
    *,
    lca: bool = False,
) -> Question:
    formats, weights = zip(*_STANDARD_FORMATS, strict=True)
    fmt: QuestionFormat = rng.choices(formats, weights)[0]
    if lca and fmt in (QuestionFormat.ZAP, QuestionFormat.TCS):
        fmt = QuestionFormat.QRM  # LCA questions are about the article's text
    props: tuple[str, ...] = ()
    expected: int | None = None
    if fmt in (QuestionFormat.QRU, QuestionFormat.QRM, QuestionFormat.QRP):
        props = tuple(_sentence(rng, 8) for _ in range(rng.choice((4, 5))))
        if fmt is QuestionFormat.QRP:
            expected = rng.randint(1, 3)
    elif fmt is QuestionFormat.QRPL:
        props = tuple(_sentence(rng, 4) for _ in range(rng.randint(10, 25)))
        expected = rng.randint(1, 5)
    elif fmt is QuestionFormat.TCS:
        props = ("-2", "-1", "0", "+1", "+2")
    image = None
    if fmt is QuestionFormat.ZAP or (not lca and rng.random() < _IMAGE_SHARE):
        image = _png(rng, 96, 72)
    return Question(
        id=f"{uid}-q{index + 1:03d}",
        format=fmt,
        index=index,
        text=_sentence(rng, 25) + " ?",
        propositions=props,
        expected_count=expected,
        dossier_id=dossier_id,
        dossier_index=dossier_index,
        context=context,
        image_png=image,
    )


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize()


def _png(rng: random.Random, width: int, height: int) -> bytes:
    """A small noisy RGB PNG: noise does not compress, like a real radiograph's grain."""
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
