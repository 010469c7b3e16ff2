"""The candidate flow against the real app and a real SQLite file."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

from exam_server_stub.package import open_package
from vigie.demo import Question, generate_session
from vigie.protocol import QuestionFormat

SEED = 7  # the seed of the conftest app
SESSION = generate_session(SEED)
_UE1 = SESSION.unit("ue1")
assert _UE1 is not None
UE1 = _UE1


def valid_answer(q: Question) -> dict[str, Any]:
    if q.format is QuestionFormat.ZAP:
        return {"points": [[0.5, 0.25]]}
    if q.format is QuestionFormat.QROC:
        return {"text": "embolie pulmonaire"}
    if q.format is QuestionFormat.TCS:
        return {"scale": 1}
    return {"choices": list(range(q.expected_count or 1))}


def isolated(fmt: QuestionFormat | None = None) -> Question:
    assert UE1 is not None
    return next(
        q for q in UE1.questions if q.dossier_id is None and (fmt is None or q.format is fmt)
    )


def first_dossier() -> list[Question]:
    assert UE1 is not None
    first = next(q for q in UE1.questions if q.dossier_id is not None)
    return [q for q in UE1.questions if q.dossier_id == first.dossier_id]


async def test_login_then_package_then_key_after_launch(api: Any) -> None:
    token = await api.candidate_token()
    r = await api.client.get("/api/v1/units/ue1/package", headers=api.bearer(token))
    assert r.status == 200
    body = await r.read()
    assert r.headers["X-Vigie-Sha256"] == hashlib.sha256(body).hexdigest()
    r = await api.client.get("/api/v1/units/ue1/key", headers=api.bearer(token))
    assert r.status == 409 and await api.error_code(r) == "unit_not_launched"

    await api.launch()
    r = await api.client.get("/api/v1/units/ue1/key", headers=api.bearer(token))
    assert r.status == 200
    doc = await r.json()
    subject = open_package(body, base64.b64decode(doc["key"]), "ue1")
    assert len(subject["questions"]) == len(UE1.questions)
    locked = [q for q in subject["questions"] if q.get("locked")]
    later = [q for q in UE1.questions if q.dossier_id is not None and q.dossier_index > 0]
    assert {q["id"] for q in locked} == {q.id for q in later}
    assert doc["deadline"] > doc["launched_at"]


async def test_login_refusals_do_not_say_which_part_was_wrong(api: Any) -> None:
    for body in (
        {"candidate_id": "AMU-00001", "centre": "AMU", "access_code": "WRONG"},
        {"candidate_id": "AMU-00001", "centre": "LILLE", "access_code": "x"},
        {"candidate_id": "NOBODY", "centre": "AMU", "access_code": "x"},
    ):
        r = await api.client.post("/api/v1/login", json=body)
        assert r.status == 401 and await api.error_code(r) == "bad_credentials"


async def test_answer_is_on_disk_when_acknowledged(api: Any, db_path: Path) -> None:
    token = await api.candidate_token()
    await api.launch()
    q = isolated(QuestionFormat.QRM)
    r = await api.answer(token, q.id, {"choices": [0, 2]}, action_id="act-1")
    assert r.status == 200
    doc = await r.json()
    assert doc["duplicate"] is False and doc["action_id"] == "act-1"
    # A separate connection sees the committed row: the ack came after the commit.
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT answer, client_ts, server_ts FROM answers WHERE action_id = 'act-1'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] == '{"choices":[0,2]}'
    assert rows[0][2] == doc["server_ts"]


async def test_resubmitted_action_is_a_noop_returning_the_first_result(
    api: Any, db_path: Path
) -> None:
    token = await api.candidate_token()
    await api.launch()
    q = isolated(QuestionFormat.QRM)
    first = await (await api.answer(token, q.id, {"choices": [0]}, action_id="dup")).json()
    # Concurrent re-sends of the same request (a tablet replaying its queue).
    replies = await asyncio.gather(
        *(api.answer(token, q.id, {"choices": [0]}, action_id="dup") for _ in range(5))
    )
    for r in replies:
        assert r.status == 200
        doc = await r.json()
        assert doc["duplicate"] is True
        assert doc["server_ts"] == first["server_ts"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM answers WHERE action_id = 'dup'").fetchone() == (
            1,
        )
        assert conn.execute("SELECT COUNT(*) FROM audit WHERE kind = 'answer'").fetchone() == (1,)
    me = await (await api.client.get("/api/v1/me", headers=api.bearer(token))).json()
    assert me["answers"]["ue1"][q.id]["answer"] == {"choices": [0]}


async def test_changes_are_kept_and_audited(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    q = isolated(QuestionFormat.QRM)
    for choice in ([0], [1], [1, 2]):
        assert (await api.answer(token, q.id, {"choices": choice})).status == 200
    jury = api.bearer(await api.jury_token())
    events = (
        await (
            await api.client.get("/api/v1/jury/candidates/AMU-00001/timeline", headers=jury)
        ).json()
    )["events"]
    kinds = [e["kind"] for e in events if e["kind"] in ("answer", "answer_change")]
    assert kinds == ["answer", "answer_change", "answer_change"]
    changes = [e for e in events if e["kind"] == "answer_change"]
    assert all("answer" not in e["data"] for e in changes)  # contents only on an audited reveal
    assert all(e["client_ts"] is not None and e["ts"] >= e["client_ts"] - 5 for e in changes)
    url = "/api/v1/jury/candidates/AMU-00001/timeline?answers=1"
    shown = await (await api.client.get(url, headers=jury)).json()
    changes = [e for e in shown["events"] if e["kind"] == "answer_change"]
    assert shown["answers_shown"] and changes[-1]["data"]["answer"] == {"choices": [1, 2]}
    viewed = [e for e in shown["events"] if e["kind"] == "answers_viewed"]
    assert [e["actor"] for e in viewed] == ["jury:national"]
    for who in ("centre-AMU", "observer"):
        r = await api.client.get(url, headers=api.bearer(await api.jury_token(who)))
        assert r.status == 403 and await api.error_code(r) == "forbidden"


async def test_progressive_dossier_unlocks_in_order(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    d = first_dossier()
    h = api.bearer(token)
    r = await api.client.get(f"/api/v1/units/ue1/questions/{d[1].id}", headers=h)
    assert r.status == 409 and await api.error_code(r) == "question_locked"
    r = await api.answer(token, d[1].id, valid_answer(d[1]))
    assert r.status == 409 and await api.error_code(r) == "question_locked"

    r = await api.answer(token, d[0].id, valid_answer(d[0]))  # not final yet
    assert (await r.json())["unlocked"] is None
    r = await api.answer(token, d[0].id, valid_answer(d[0]), final=True)
    assert (await r.json())["unlocked"] == d[1].id
    r = await api.answer(token, d[0].id, valid_answer(d[0]))
    assert r.status == 409 and await api.error_code(r) == "question_final"
    r = await api.client.get(f"/api/v1/units/ue1/questions/{d[1].id}", headers=h)
    assert r.status == 200 and (await r.json())["id"] == d[1].id
    assert (await api.answer(token, d[1].id, valid_answer(d[1]))).status == 200


async def test_invalid_answers_per_format(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    cases: dict[QuestionFormat, list[dict[str, Any]]] = {
        QuestionFormat.QRM: [
            {"choices": [99]},
            {"choices": [0, 0]},
            {"choices": []},
            {"text": "x"},
        ],
        QuestionFormat.QROC: [{"text": "un deux trois quatre cinq six"}, {"text": ""}],
        QuestionFormat.QRPL: [{"choices": []}],
    }
    for fmt, answers in cases.items():
        q = isolated(fmt)
        for answer in answers:
            r = await api.answer(token, q.id, answer)
            assert r.status == 422, (fmt, answer)
            assert await api.error_code(r) == "invalid_answer"
    me = await (await api.client.get("/api/v1/me", headers=api.bearer(token))).json()
    assert me["answers"] == {}


async def test_answers_outside_the_window_are_refused(api: Any) -> None:
    token = await api.candidate_token()
    q = isolated()
    r = await api.answer(token, q.id, valid_answer(q))
    assert r.status == 409 and await api.error_code(r) == "unit_not_launched"
    await api.launch(duration_s=0.3)
    await asyncio.sleep(0.5)
    r = await api.answer(token, q.id, valid_answer(q))
    assert r.status == 409 and await api.error_code(r) == "outside_time_window"


async def test_extra_time_reopens_the_window(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch(duration_s=0.3)
    await asyncio.sleep(0.5)
    r = await api.client.post(
        "/api/v1/jury/extra-time",
        json={
            "unit_id": "ue1",
            "candidate_id": "AMU-00001",
            "seconds": 600,
            "reason": "tablet swap",
        },
        headers=api.bearer(await api.jury_token()),
    )
    assert r.status == 200
    q = isolated()
    assert (await api.answer(token, q.id, valid_answer(q))).status == 200
    other = await api.candidate_token("AMU-00002")
    r = await api.answer(other, q.id, valid_answer(q))
    assert r.status == 409 and await api.error_code(r) == "outside_time_window"


async def test_finish_is_idempotent_and_ends_answering(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    h = api.bearer(token)
    r1 = await api.client.post(
        "/api/v1/units/ue1/finish", json={"action_id": "f1", "client_ts": 1.0}, headers=h
    )
    r2 = await api.client.post(
        "/api/v1/units/ue1/finish", json={"action_id": "f1", "client_ts": 1.0}, headers=h
    )
    assert r1.status == r2.status == 200
    assert (await r1.json())["finished_at"] == (await r2.json())["finished_at"]
    q = isolated()
    r = await api.answer(token, q.id, valid_answer(q))
    assert r.status == 409 and await api.error_code(r) == "unit_finished"
    me = await (await api.client.get("/api/v1/me", headers=h)).json()
    assert next(u for u in me["units"] if u["unit_id"] == "ue1")["finished"] is True


async def test_closed_unit_refuses_answers(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    r = await api.client.post(
        "/api/v1/jury/units/ue1/close",
        json={"reason": "end of unit"},
        headers=api.bearer(await api.jury_token()),
    )
    assert r.status == 200 and (await r.json())["state"] == "closed"
    q = isolated()
    r = await api.answer(token, q.id, valid_answer(q))
    assert r.status == 409 and await api.error_code(r) == "unit_closed"
