"""`vigie correct` on a real server database: last answer counts, closed units only,
documents written, byte-identical on a second run."""

from __future__ import annotations

import csv
import functools
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest

from exam_server_stub.bootstrap import bootstrap
from vigie import cli
from vigie.centres import default_centres
from vigie.correction.keys import AnswerKey, session_keys
from vigie.correction.results import correct
from vigie.correction.rules import load_rules
from vigie.correction.source import CorrectionRefused, read_sitting
from vigie.demo import generate_session
from vigie.protocol import QuestionFormat

SEED = 11
COUNTS = {"AMU": 4, "LILLE": 3}


@functools.cache
def _keys(seed: int) -> dict[str, AnswerKey]:
    return session_keys(generate_session(seed))


def _right_answer(seed: int, qid: str) -> dict[str, object]:
    k = _keys(seed)[qid]
    if k.format is QuestionFormat.ZAP:
        return {"points": [[(z[0] + z[2]) / 2, (z[1] + z[3]) / 2] for z in k.zones]}
    if k.format is QuestionFormat.QROC:
        return {"text": k.accepted[0].upper()}
    if k.format is QuestionFormat.TCS:
        return {"scale": max(set(k.panel), key=k.panel.count)}
    return {"choices": list(k.right)}


def make_db(tmp_path: Path, close: tuple[str, ...] = ("ue1",)) -> Path:
    db = tmp_path / "exam.sqlite3"
    bootstrap(db, COUNTS, SEED, default_centres())
    session = generate_session(SEED)
    ue1 = session.units[0]
    conn = sqlite3.connect(db, isolation_level=None)
    now = time.time()
    seq = 0

    def put(cid: str, qid: str, answer: dict[str, object]) -> None:
        nonlocal seq
        seq += 1
        conn.execute(
            "INSERT INTO answers (candidate_id, action_id, unit_id, question_id, answer, final,"
            " client_ts, server_ts) VALUES (?, ?, 'ue1', ?, ?, 1, ?, ?)",
            (cid, f"a{seq}", qid, json.dumps(answer), now, now),
        )

    # AMU-00001 answers everything right; AMU-00002 the first half; LILLE-00001 changes its
    # mind on the first question (right, then wrong: the last stored answer counts).
    for q in ue1.questions:
        put("AMU-00001", q.id, _right_answer(SEED, q.id))
    for q in ue1.questions[: len(ue1.questions) // 2]:
        put("AMU-00002", q.id, _right_answer(SEED, q.id))
    first = ue1.questions[0]
    put("LILLE-00001", first.id, _right_answer(SEED, first.id))
    wrongs: dict[QuestionFormat, dict[str, object]] = {
        QuestionFormat.ZAP: {"points": [[0.999, 0.999]]},
        QuestionFormat.QROC: {"text": "non"},
        QuestionFormat.TCS: {"scale": 9},
    }
    wrong = wrongs.get(first.format, {"choices": [99]})
    put("LILLE-00001", first.id, wrong)
    for u in session.units:
        conn.execute(
            "UPDATE units SET launched_at = ?, deadline = ?, closed_at = ? WHERE id = ?",
            (now, now + 1, now + 1 if u.id in close else None, u.id),
        )
    conn.close()
    return db


def test_read_sitting_takes_the_last_answer_and_closed_units(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    s = read_sitting(db)
    assert s.units == ("ue1",) and s.source["answer_rows"] > 0
    assert len(s.people) == 7 and s.people[0].birth_date
    first = s.session.units[0].questions[0].id
    assert json.loads(s.answers["LILLE-00001"][first]) != _right_answer(SEED, first)
    present = {c.candidate_id: c.present for c in correct(s, load_rules()).candidates}
    assert present["AMU-00001"] == [True] and present["LILLE-00003"] == [False]
    with pytest.raises(CorrectionRefused, match="not closed: ue2"):
        read_sitting(db, ["ue1", "ue2"])
    with pytest.raises(CorrectionRefused, match="unknown unit"):
        read_sitting(db, ["ue9"])


def test_no_closed_unit_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = make_db(tmp_path, close=())
    assert cli.main(["correct", str(db), "--out", str(tmp_path / "r")]) == 3
    assert "no unit is closed" in capsys.readouterr().err


def test_correct_writes_the_documents_byte_identical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = make_db(tmp_path)
    out1, out2 = tmp_path / "r1", tmp_path / "r2"
    args = ["--trace", "AMU-00001", "--trace", "LILLE-00001"]
    assert cli.main(["correct", str(db), "--out", str(out1), *args]) == 0
    printed = capsys.readouterr().out
    assert "corrected 7 candidates" in printed and "vigie-edn v1.0" in printed
    assert cli.main(["correct", str(db), "--out", str(out2), *args]) == 0
    names = sorted(p.relative_to(out1).as_posix() for p in out1.rglob("*") if p.is_file())
    assert names == [
        "analyse-questions.csv", "analyse.json", "classement.csv", "classement.html",
        "etat-recapitulatif.csv", "etat-recapitulatif.html", "resultats.json",
        "traces/AMU-00001.csv", "traces/LILLE-00001.csv",
    ]  # fmt: skip
    for name in names:
        assert (out1 / name).read_bytes() == (out2 / name).read_bytes(), name

    ranking = list(csv.reader(io.StringIO((out1 / "classement.csv").read_text()), delimiter=";"))
    assert ranking[0][:4] == ["Rang", "Candidat", "Centre", "Note globale /20"]
    assert [row[1] for row in ranking[1:]] == ["AMU-00001", "AMU-00002", "LILLE-00001"]
    assert ranking[1][3] == "20,000"  # every answer right
    recap = list(
        csv.reader(io.StringIO((out1 / "etat-recapitulatif.csv").read_text()), delimiter=";")
    )
    assert len(recap) == 1 + 7 and recap[0][3:6] == ["ue1 présent", "ue1 points", "ue1 /20"]
    absent = next(r for r in recap if r[0] == "LILLE-00003")
    assert absent[3] == "non" and absent[-1] == "non classé"

    doc = json.loads((out1 / "resultats.json").read_text())
    assert doc["rules"]["name"] == "vigie-edn" and doc["rules"]["version"] == "1.0"
    assert doc["rules"]["sha256"] == load_rules().sha256 and doc["decisions"] == []
    html = (out1 / "classement.html").read_text()
    assert (
        '<html lang="fr">' in html
        and "Le président du jury" in html
        and "vigie-edn version 1.0" in html
    )

    lines = list(
        csv.reader(io.StringIO((out1 / "traces/LILLE-00001.csv").read_text()), delimiter=";")
    )
    assert lines[0] == ["Unité", "Question", "Format", "Rang", "Poids", "Réponse", "Corrigé",
                        "Discordances", "Points", "Règle appliquée"]  # fmt: skip
    assert len(lines) == 1 + len(generate_session(SEED).units[0].questions)
    assert lines[1][8] == "0" and lines[2][5] == "—"


def test_rules_and_trace_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = make_db(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    assert cli.main(["correct", str(db), "--rules", str(bad)]) == 2
    assert cli.main(["correct", str(db), "--out", str(tmp_path / "o"), "--trace", "NOPE"]) == 2
    assert cli.main(["correct", str(tmp_path / "none.sqlite3")]) == 2
    err = capsys.readouterr().err
    assert "rules" in err and "NOPE" in err and "no database" in err


def test_decisions_are_read_from_the_audit(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    first = generate_session(SEED).units[0].questions[0].id
    conn = sqlite3.connect(db, isolation_level=None)
    for reason in ("première raison", "énoncé ambigu"):  # the later decision wins
        conn.execute(
            "INSERT INTO audit (ts, kind, actor, data) VALUES (1.0, 'neutralise', 'jury:national', ?)",
            (json.dumps({"question_id": first, "unit_id": "ue1", "reason": reason}),),
        )
    conn.close()
    out = tmp_path / "r"
    assert cli.main(["correct", str(db), "--out", str(out), "--trace", "LILLE-00001"]) == 0
    doc = json.loads((out / "resultats.json").read_text())
    assert [(d["question_id"], d["reason"]) for d in doc["decisions"]] == [(first, "énoncé ambigu")]
    n = len(generate_session(SEED).units[0].questions)
    assert doc["units"][0]["max_points"] == f"{n - 1}.000"  # removed from the scale
    assert "neutralisée : énoncé ambigu" in (out / "classement.html").read_text()
    trace = (out / "traces/LILLE-00001.csv").read_text()
    assert "neutralisée (énoncé ambigu) : retirée du barème" in trace
