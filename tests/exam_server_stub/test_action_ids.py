"""Action ids: scoped per candidate and operation, validated first, never another request's result."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

from vigie.demo import generate_session
from vigie.protocol import QuestionFormat

SESSION = generate_session(7)  # the seed of the conftest app
UE1 = SESSION.unit("ue1")
assert UE1 is not None
QRM, QRM_2 = [q for q in UE1.questions if q.dossier_id is None and q.format is QuestionFormat.QRM][
    :2
]


async def finish(api: Any, token: str, action_id: str, unit_id: str = "ue1") -> Any:
    return await api.client.post(
        f"/api/v1/units/{unit_id}/finish",
        json={"action_id": action_id, "client_ts": time.time()},
        headers=api.bearer(token),
    )


async def me(api: Any, token: str) -> dict[str, Any]:
    doc: dict[str, Any] = await (
        await api.client.get("/api/v1/me", headers=api.bearer(token))
    ).json()
    return doc


async def test_a_finish_reusing_an_answer_id_is_recorded(api: Any, db_path: Path) -> None:
    token = await api.candidate_token()
    await api.launch()
    assert (await api.answer(token, QRM.id, {"choices": [0]}, action_id="A")).status == 200
    r = await finish(api, token, "A")
    assert r.status == 200
    doc = await r.json()
    assert doc["unit_id"] == "ue1" and "finished_at" in doc  # the finish's own body
    assert next(u for u in (await me(api, token))["units"] if u["unit_id"] == "ue1")["finished"]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT action_id FROM finishes").fetchall() == [("A",)]


async def test_validation_comes_before_the_replay(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    assert (await api.answer(token, QRM.id, {"choices": [0]}, action_id="B")).status == 200
    r = await api.answer(token, QRM.id, {"choices": [0]}, action_id="B", unit_id="ue9")
    assert r.status == 404 and await api.error_code(r) == "unknown_unit"
    r = await api.answer(token, QRM.id, {"choices": "all"}, action_id="B")
    assert r.status == 422 and await api.error_code(r) == "invalid_answer"
    r = await api.answer(token, "nope", {"choices": [0]}, action_id="B")
    assert r.status == 404 and await api.error_code(r) == "unknown_question"


async def test_a_reused_id_with_another_request_is_409_and_changes_nothing(
    api: Any, db_path: Path
) -> None:
    token = await api.candidate_token()
    await api.launch()
    assert (await api.answer(token, QRM.id, {"choices": [0]}, action_id="C")).status == 200
    for question_id, answer, final in (
        (QRM.id, {"choices": [1]}, False),  # another answer
        (QRM.id, {"choices": [0]}, True),  # the same answer made final
        (QRM_2.id, {"choices": [0]}, False),  # another question
    ):
        r = await api.answer(token, question_id, answer, action_id="C", final=final)
        assert r.status == 409, (question_id, answer, final)
        assert await api.error_code(r) == "action_id_reused"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM answers").fetchone() == (1,)
    stored = (await me(api, token))["answers"]["ue1"]
    assert list(stored) == [QRM.id]
    assert stored[QRM.id]["answer"] == {"choices": [0]} and stored[QRM.id]["final"] is False


async def test_a_finish_id_is_scoped_to_its_unit(api: Any) -> None:
    token = await api.candidate_token()
    await api.launch()
    assert (await finish(api, token, "F")).status == 200
    r = await finish(api, token, "F", unit_id="ue2")
    assert r.status == 409 and await api.error_code(r) == "action_id_reused"
    again = await finish(api, token, "F")
    assert again.status == 200 and (await again.json())["unit_id"] == "ue1"


async def test_a_replay_survives_a_restart_and_the_deadline(make_api: Any) -> None:
    api = await make_api()
    token = await api.candidate_token()
    await api.launch(duration_s=2)
    first = await (await api.answer(token, QRM.id, {"choices": [0]}, action_id="D")).json()
    await api.client.close()
    api = await make_api()  # the same database file, a new process's memory
    token = await api.candidate_token()
    await asyncio.sleep(2.1)  # past the deadline
    r = await api.answer(token, QRM.id, {"choices": [0]}, action_id="D")
    assert r.status == 200
    doc = await r.json()
    assert doc["duplicate"] is True and doc["server_ts"] == first["server_ts"]
    r = await api.answer(token, QRM.id, {"choices": [2]}, action_id="D")
    assert r.status == 409 and await api.error_code(r) == "action_id_reused"


async def test_candidates_do_not_share_action_ids(api: Any) -> None:
    a, b = await api.candidate_token("AMU-00001"), await api.candidate_token("AMU-00002")
    await api.launch()
    for token in (a, b):
        r = await api.answer(token, QRM.id, {"choices": [0]}, action_id="same")
        assert r.status == 200 and (await r.json())["duplicate"] is False
