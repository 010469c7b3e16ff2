"""Question analysis on a hand-made unit: success, discrimination, flags, distribution."""

from __future__ import annotations

import json

from vigie.correction.docimology import analyse
from vigie.correction.keys import AnswerKey, Rank
from vigie.correction.results import Decisions, Neutralisation, Person, Sitting, correct
from vigie.correction.rules import load_rules
from vigie.demo import Question, Session, Unit
from vigie.protocol import QuestionFormat, UnitKind

RULES = load_rules()
RIGHT = {  # question -> who answers it right
    "u1-q1": {"S1", "S2", "S3", "S4", "S5"},  # the strong: discriminates
    "u1-q2": {"W1", "W2", "W3", "W4", "W5"},  # the weak only: negative discrimination
    "u1-q3": set(),  # nobody
    "u1-q4": {"S1", "S2", "S3", "S4", "S5"},
    "u1-q5": {"S1", "S2", "S3", "S4", "S5"},
    "u1-q6": {"S1", "S2", "S3", "S4", "S5"},
}


def sitting(decisions: Decisions | None = None) -> Sitting:
    qs = [
        Question(qid, QuestionFormat.QRU, i, "?", ("a", "b", "c", "d"))
        for i, qid in enumerate(RIGHT)
    ]
    keys = {q.id: AnswerKey(q.id, "u1", q.format, Rank.A, 1, right=(0,)) for q in qs}
    unit = Unit("u1", "U1", UnitKind.STANDARD, 10800.0, tuple(qs), {q.id: q for q in qs})
    people = [Person(f"{g}{i}", "AMU", "1999-01-01") for g in "SW" for i in range(1, 6)]
    answers = {
        p.candidate_id: {
            qid: json.dumps({"choices": [0 if p.candidate_id in who else 1]})
            for qid, who in RIGHT.items()
        }
        for p in people
    }
    return Sitting(
        Session(0, (unit,)), keys, people, answers, frozenset(), ("u1",), decisions or Decisions()
    )


def test_success_discrimination_and_what_to_look_at() -> None:
    s = sitting()
    doc = analyse(s, correct(s, RULES))
    by = {q["question_id"]: q for q in doc["questions"]}
    assert by["u1-q1"]["success"] == 0.5 and by["u1-q1"]["discrimination"] == 1.0
    assert by["u1-q2"]["success"] == 0.5 and by["u1-q2"]["discrimination"] == -1.0
    assert by["u1-q2"]["flags"] == ["discrimination négative"]
    assert by["u1-q3"]["success"] == 0.0 and by["u1-q3"]["flags"] == ["réussite quasi nulle"]
    assert by["u1-q1"]["flags"] == [] and by["u1-q1"]["present"] == by["u1-q1"]["answered"] == 10
    assert doc["to_look_at"] == ["u1-q2", "u1-q3"]
    unit = doc["units"][0]
    counts = {b["from"]: b["count"] for b in unit["bins"] if b["count"]}
    assert counts == {13: 5, 3: 5}  # 4/6 and 1/6 of 20
    assert unit["mean"] == "8.333" and unit["sd"] == "5.000" and unit["present"] == 10


def test_neutralised_questions_are_still_analysed() -> None:
    s = sitting(Decisions((Neutralisation("u1-q2", "clé erronée"),)))
    doc = analyse(s, correct(s, RULES))
    q2 = next(q for q in doc["questions"] if q["question_id"] == "u1-q2")
    assert q2["flags"] == ["neutralisée", "discrimination négative"] and q2["success"] == 0.5
