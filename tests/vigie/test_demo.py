"""The demo exam: deterministic, rule-conformant, import-light."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vigie.centres import default_centres
from vigie.demo import access_code, demo_counts, generate_session, roster
from vigie.protocol import QuestionFormat, UnitKind


def test_counts_follow_weights_and_sum_exactly() -> None:
    for total in (0, 1, 35, 9800, 12000):
        counts = demo_counts(total)
        assert sum(counts.values()) == total
        assert list(counts) == [c.code for c in default_centres()]
    counts = demo_counts(9800)
    assert counts["PARIS-CITE"] > counts["LIMOGES"] > counts["REUNION"]
    assert demo_counts(9800) == counts


def test_roster_ids_and_codes() -> None:
    people = roster({"AMU": 2, "LILLE": 1}, seed=3)
    assert [p.candidate_id for p in people] == ["AMU-00001", "AMU-00002", "LILLE-00001"]
    assert all(p.access_code == access_code(3, p.candidate_id) for p in people)
    assert access_code(3, "AMU-00001") != access_code(4, "AMU-00001")
    assert len({p.access_code for p in roster({"AMU": 500}, seed=3)}) == 500


def test_session_follows_the_rules() -> None:
    session = generate_session(5)
    assert generate_session(5) == session
    kinds = [u.kind for u in session.units if not u.backup]
    assert kinds.count(UnitKind.STANDARD) == 3 and kinds.count(UnitKind.LCA) == 2
    # a backup of each kind, after the others (whose content they do not change)
    assert [(u.id, u.kind, u.backup) for u in session.units[5:]] == [
        ("ue-secours", UnitKind.STANDARD, True), ("lca-secours", UnitKind.LCA, True)
    ]  # fmt: skip
    formats: set[QuestionFormat] = set()
    for u in session.units:
        formats |= {q.format for q in u.questions}
        dossiers: dict[str, int] = {}
        for q in u.questions:
            if q.dossier_id:
                dossiers[q.dossier_id] = dossiers.get(q.dossier_id, 0) + 1
        if u.kind is UnitKind.STANDARD:
            assert 90 <= len(u.questions) <= 110 and u.duration_s == 3 * 3600
            assert dossiers and all(3 <= n <= 8 for n in dossiers.values())
            assert any(q.image_png for q in u.questions)
        else:
            assert 13 <= len(u.questions) <= 17 and u.duration_s == 5400
            assert list(dossiers.values()) == [len(u.questions)]  # all progressive
        for q in u.questions:
            if q.format is QuestionFormat.QRPL:
                assert 10 <= len(q.propositions) <= 25 and q.expected_count is not None
                assert 1 <= q.expected_count <= 5
            if q.format in (QuestionFormat.QRU, QuestionFormat.QRM, QuestionFormat.QRP):
                assert len(q.propositions) in (4, 5)
            if q.format is QuestionFormat.ZAP:
                assert q.image_png is not None and q.image_png.startswith(b"\x89PNG")
    assert formats == set(QuestionFormat)


def test_demo_module_stays_import_light() -> None:
    code = "import sys, vigie.demo; print(sorted(m for m in ('aiohttp', 'gevent', 'locust', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_connection_test_codes_are_per_centre_and_seed_and_no_access_code() -> None:
    from vigie.demo import access_code, connection_test_code

    codes = {connection_test_code(7, c) for c in ("AMU", "LILLE", "NANTES")}
    assert len(codes) == 3
    assert connection_test_code(7, "AMU") == connection_test_code(7, "AMU")
    assert connection_test_code(8, "AMU") != connection_test_code(7, "AMU")
    assert connection_test_code(7, "AMU") != access_code(7, "AMU")


def test_vigie_demo_prints_each_centres_connection_test_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from exam_server_stub.demo_cli import main
    from vigie.demo import connection_test_code

    assert main(["--candidates", "40", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"connection test: centre=AMU test_code={connection_test_code(3, 'AMU')}" in out


def test_the_demo_roster_seats_candidates_in_rooms_of_sixty() -> None:
    from vigie.demo import ROOM_SEATS, seat_of

    assert ROOM_SEATS == 60
    assert seat_of("AMU-00001") == ("Salle 1", "01")
    assert seat_of("AMU-00060") == ("Salle 1", "60")
    assert seat_of("AMU-00061") == ("Salle 2", "01")
    assert seat_of("LILLE-CATHO-00125") == ("Salle 3", "05")
    assert seat_of("AMU") is None and seat_of("AMU-00000") is None
