"""Answer keys: deterministic, well-formed for every format, and never in a package."""

from __future__ import annotations

import hashlib

import orjson

from exam_server_stub.package import package_document
from vigie.correction.keys import CHOICE_FORMATS, PANEL_SIZE, Rank, session_keys
from vigie.demo import generate_session
from vigie.protocol import QuestionFormat, UnitKind

# The questions of seed 7 as they were before keys existed: keys come from their own
# random stream, so the questions (and every package's bytes and sha256) never move.
QUESTIONS_SEED_7 = "551cadd4e27c1aab82143a4cf934db263a1094fe287686ff08ad86b79557e3bd"


def _questions_digest(seed: int) -> str:
    h = hashlib.sha256()
    # the five units sat; the backups came later, each from its own generator
    for u in (u for u in generate_session(seed).units if not u.backup):
        for q in u.questions:
            fields = (q.id, q.format.value, q.text, q.propositions, q.expected_count)
            fields += (q.dossier_id, q.dossier_index, q.context, q.image_png)  # type: ignore[assignment]
            h.update(repr(fields).encode())
    return h.hexdigest()


def test_keys_leave_the_questions_unchanged() -> None:
    session_keys(generate_session(7))
    assert _questions_digest(7) == QUESTIONS_SEED_7


def test_keys_are_deterministic_and_depend_on_the_seed() -> None:
    assert session_keys(generate_session(7)) == session_keys(generate_session(7))
    assert session_keys(generate_session(7)) != session_keys(generate_session(8))


def test_every_question_has_a_well_formed_key() -> None:
    session = generate_session(7)
    keys = session_keys(session)
    ranks: set[Rank] = set()
    for u in session.units:
        for q in u.questions:
            k = keys[q.id]
            ranks.add(k.rank)
            assert k.format is q.format and k.unit_id == u.id
            assert k.weight == (2 if u.kind is UnitKind.LCA else 1)
            if q.format in CHOICE_FORMATS:
                n = len(q.propositions)
                assert k.right and all(0 <= i < n for i in k.right)
                assert set(k.indispensable) <= set(k.right)
                assert not set(k.inacceptable) & set(k.right)
                if q.format is QuestionFormat.QRU:
                    assert len(k.right) == 1
                elif q.expected_count is not None:
                    assert len(k.right) == q.expected_count
                else:
                    assert len(k.right) < n
            elif q.format is QuestionFormat.ZAP:
                assert 1 <= len(k.zones) <= 3
                for x0, y0, x1, y1 in k.zones:
                    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
                for a in k.zones:  # never overlapping
                    for b in k.zones:
                        if a != b:
                            assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]
            elif q.format is QuestionFormat.QROC:
                assert k.accepted and all(1 <= len(a.split()) <= 5 for a in k.accepted)
            else:
                assert len(k.panel) == PANEL_SIZE and all(-2 <= v <= 2 for v in k.panel)
    assert ranks == {Rank.A, Rank.B}
    fmts = {k.format for k in keys.values()}
    assert fmts == set(QuestionFormat)
    assert any(k.indispensable for k in keys.values())
    assert any(k.inacceptable for k in keys.values())


def test_no_key_material_in_any_package() -> None:
    session = generate_session(7)
    keys = session_keys(session)
    for u in session.units:
        text = orjson.dumps(package_document(u)).decode()
        for field in ('"right"', '"indispensable"', '"inacceptable"', '"zones"', '"accepted"'):
            assert field not in text
        assert '"panel"' not in text and '"rank"' not in text
        for q in u.questions:
            for a in keys[q.id].accepted:
                if len(a) > 4:  # short abbreviations can occur in base64 image data
                    assert a not in text
