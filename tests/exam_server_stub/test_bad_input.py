"""Bad input gets a 4xx with a machine-readable code (never a 500) and changes nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from exam_server_stub.tokens import TokenSigner

LOGIN = "/api/v1/login"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 400, "malformed_json"),
        (b"", 400, "malformed_json"),
        (b'{"candidate_id": "AMU-00001", "centre": "AMU"}', 422, "invalid_request"),
        (b'{"candidate_id": "AMU-00001", "centre": "AMU", "access_code": "x", "extra": 1}', 422, "invalid_request"),
        (b'{"candidate_id": 12, "centre": "AMU", "access_code": "x"}', 422, "invalid_request"),
        (b'{"candidate_id": "' + b"x" * 100 + b'", "centre": "AMU", "access_code": "x"}', 422, "invalid_request"),
        (b'{"candidate_id": "a", "centre": "b", "access_code": "' + b"x" * 70_000 + b'"}', 413, "body_too_large"),
    ],
)  # fmt: skip
async def test_login_bodies(api: Any, body: bytes, status: int, code: str) -> None:
    r = await api.client.post(LOGIN, data=body, headers={"Content-Type": "application/json"})
    assert r.status == status
    assert await api.error_code(r) == code


@pytest.mark.parametrize(
    "body",
    [
        {"action_id": "a", "question_id": "ue1-q001", "answer": {"text": "x"}, "final": False},
        {
            "action_id": "a",
            "question_id": "ue1-q001",
            "answer": "x",
            "final": False,
            "client_ts": 1.0,
        },
        {
            "action_id": "",
            "question_id": "ue1-q001",
            "answer": {},
            "final": False,
            "client_ts": 1.0,
        },
        {"action_id": "a" * 65, "question_id": "q", "answer": {}, "final": False, "client_ts": 1.0},
        {"action_id": "a", "question_id": "q", "answer": {}, "final": "yes", "client_ts": 1.0},
        {"action_id": "a", "question_id": "q", "answer": {}, "final": False, "client_ts": "now"},
        {
            "action_id": "a",
            "question_id": "q",
            "answer": {},
            "final": False,
            "client_ts": 1.0,
            "x": 0,
        },
    ],
)
async def test_answer_bodies_change_nothing(api: Any, db_path: Path, body: dict[str, Any]) -> None:
    token = await api.candidate_token()
    await api.launch()
    r = await api.client.post("/api/v1/units/ue1/answers", json=body, headers=api.bearer(token))
    assert r.status == 422 and await api.error_code(r) == "invalid_request"
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM answers").fetchone() == (0,)


async def test_unknown_ids(api: Any) -> None:
    token = await api.candidate_token()
    h = api.bearer(token)
    await api.launch()
    r = await api.client.get("/api/v1/units/nope/package", headers=h)
    assert r.status == 404 and await api.error_code(r) == "unknown_unit"
    r = await api.answer(token, "ue1-q999", {"text": "x"})
    assert r.status == 404 and await api.error_code(r) == "unknown_question"
    r = await api.answer(token, "ue2-q001", {"text": "x"})  # a question of another unit
    assert r.status == 404 and await api.error_code(r) == "unknown_question"
    jury = await api.jury()
    r = await api.client.get("/api/v1/jury/candidates/NOBODY-00001/timeline", headers=jury)
    assert r.status == 404 and await api.error_code(r) == "unknown_candidate"
    r = await api.client.post(
        "/api/v1/jury/centres/ATLANTIS/pause", json={"reason": "x"}, headers=jury
    )
    assert r.status == 404 and await api.error_code(r) == "unknown_centre"
    r = await api.client.post(
        "/api/v1/jury/extra-time",
        json={"unit_id": "ue1", "candidate_id": "NOBODY", "seconds": 5, "reason": "x"},
        headers=jury,
    )
    assert r.status == 404 and await api.error_code(r) == "unknown_candidate"
    r = await api.client.post(
        "/api/v1/jury/extra-time",
        json={
            "unit_id": "ue1",
            "candidate_id": "AMU-00001",
            "centre": "AMU",
            "seconds": 5,
            "reason": "x",
        },
        headers=jury,
    )
    assert r.status == 422 and await api.error_code(r) == "invalid_request"


async def test_bad_and_expired_tokens(api: Any, db_path: Path) -> None:
    c = api.client
    r = await c.get("/api/v1/me")
    assert r.status == 401 and await api.error_code(r) == "unauthenticated"
    for token in ("garbage", "a.b", "a.b.c", "é.è"):
        r = await c.get("/api/v1/me", headers=api.bearer(token))
        assert r.status == 401 and await api.error_code(r) == "unauthenticated"
    good = await api.candidate_token()
    r = await c.get(
        "/api/v1/me", headers=api.bearer(good[:-2] + ("AA" if good[-2:] != "AA" else "BB"))
    )
    assert r.status == 401 and await api.error_code(r) == "unauthenticated"
    # An expired token signed with the server's own secret (read from its database).
    with sqlite3.connect(db_path) as conn:
        secret = bytes.fromhex(
            conn.execute("SELECT value FROM meta WHERE key='secret'").fetchone()[0]
        )
    old = TokenSigner(secret, ttl_s=10).issue("AMU-00001", "candidate", "AMU", now=1_000.0)
    r = await c.get("/api/v1/me", headers=api.bearer(old))
    assert r.status == 401 and await api.error_code(r) == "token_expired"
    # A token from another server (another secret) is refused.
    alien = TokenSigner(b"other secret", ttl_s=60).issue("AMU-00001", "candidate", "AMU")
    assert (await c.get("/api/v1/me", headers=api.bearer(alien))).status == 401


async def test_wrong_method_and_unknown_path(api: Any) -> None:
    r = await api.client.get(LOGIN)
    assert r.status == 405 and await api.error_code(r) == "method_not_allowed"
    r = await api.client.get("/nowhere")
    assert r.status == 404 and await api.error_code(r) == "not_found"


async def test_jury_bodies(api: Any) -> None:
    jury = await api.jury()
    c = api.client
    for url, body in (
        ("/api/v1/jury/units/ue1/launch", {}),
        ("/api/v1/jury/units/ue1/launch", {"reason": "x", "duration_s": -5}),
        ("/api/v1/jury/units/ue1/launch", {"reason": ""}),
        (
            "/api/v1/jury/extra-time",
            {"unit_id": "ue1", "centre": "AMU", "seconds": 0, "reason": "x"},
        ),
        ("/api/v1/jury/messages", {"text": "hi", "reason": "x"}),
    ):
        r = await c.post(url, json=body, headers=jury)
        assert r.status == 422, (url, body)
        assert await api.error_code(r) == "invalid_request"
    r = await c.get("/api/v1/jury/fraud-alerts?since=abc", headers=jury)
    assert r.status == 422
    r = await c.get("/api/v1/jury/snapshot?centre=ATLANTIS", headers=jury)
    assert r.status == 404 and await api.error_code(r) == "unknown_centre"


async def test_injected_faults(make_api: Any) -> None:
    api = await make_api(error_rate=1.0)
    r = await api.client.post(LOGIN, json={})
    assert r.status == 503 and await api.error_code(r) == "injected_fault"
    assert int(r.headers["Retry-After"]) > 0
    assert (await api.client.get("/healthz")).status == 200  # knobs spare the probes


async def test_405_says_what_is_allowed(api: Any) -> None:
    r = await api.client.get(LOGIN)
    assert r.status == 405
    assert r.headers["Allow"] == "POST"
    r = await api.client.delete("/api/v1/me")
    assert r.status == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD"}


async def test_resuming_a_centre_that_is_not_paused_is_409(api: Any) -> None:
    jury = await api.jury()
    r = await api.client.post("/api/v1/jury/centres/AMU/resume", json={"reason": "x"}, headers=jury)
    assert r.status == 409 and await api.error_code(r) == "centre_not_paused"


async def test_unparseable_request_gets_the_json_error_and_no_traceback(
    api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = api.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Evil: a\x00b<script>\r\n\r\n")
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"400"
    assert b"application/json" in head
    doc = orjson.loads(body)
    assert set(doc) == {"error"} and doc["error"]["code"] == "malformed_request"
    assert b"<script>" not in raw and b"\x00" not in raw  # never echoed back
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
