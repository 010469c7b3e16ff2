"""The national jury's NDJSON export: every stored answer, every change, resumable."""

from __future__ import annotations

from typing import Any

import orjson

from vigie.demo import generate_session

EXPORT = "/api/v1/jury/answers/export"


async def test_every_stored_answer_once_in_storage_order(api: Any) -> None:
    unit = generate_session(api.seed).unit("ue1")
    assert unit is not None
    qroc = [q for q in unit.questions if q.dossier_id is None and q.format.value == "QROC"][:2]
    await api.launch()
    sent = []
    for cid in ("AMU-00001", "LILLE-00001"):
        token = await api.candidate_token(cid)
        for n, q in enumerate(qroc):
            r = await api.answer(token, q.id, {"text": f"{cid} {n}"}, action_id=f"{cid}-{n}")
            assert r.status == 200
            sent.append((cid, q.id, f"{cid}-{n}", {"text": f"{cid} {n}"}))
    r = await api.client.get(EXPORT, headers=await api.jury())
    assert r.status == 200 and r.content_type == "application/x-ndjson"
    lines = [orjson.loads(line) for line in (await r.read()).splitlines()]
    assert [
        (d["candidate_id"], d["question_id"], d["action_id"], d["answer"]) for d in lines
    ] == sent
    assert [d["centre"] for d in lines] == ["AMU", "AMU", "LILLE", "LILLE"]
    seqs = [d["seq"] for d in lines]
    assert seqs == sorted(seqs)
    r = await api.client.get(f"{EXPORT}?since={seqs[1]}", headers=await api.jury())
    assert [orjson.loads(x)["seq"] for x in (await r.read()).splitlines()] == seqs[2:]


async def test_only_the_national_jury_exports(api: Any) -> None:
    for headers in (
        await api.jury("observer"),
        await api.jury("centre-AMU"),
        api.bearer(await api.candidate_token()),
    ):
        r = await api.client.get(EXPORT, headers=headers)
        assert r.status == 403 and await api.error_code(r) == "forbidden"
    r = await api.client.get(f"{EXPORT}?since=-3", headers=await api.jury())
    assert r.status == 422
