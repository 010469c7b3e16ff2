"""Fixtures: a real app on a real SQLite file in tmp_path, and logged-in clients."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from exam_server_stub.app import create_app
from exam_server_stub.settings import ServerSettings
from vigie.demo import access_code

SEED = 7
COUNTS = {"AMU": 3, "LILLE": 2, "LILLE-CATHO": 1}
Client = TestClient[Any, Any]


def make_settings(db: Path, **kw: Any) -> ServerSettings:
    base: dict[str, Any] = {"db_path": db, "demo_counts": COUNTS, "seed": SEED}
    base.update(kw)
    return ServerSettings(**base)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "exam.sqlite3"


@pytest.fixture
def make_client(
    aiohttp_client: Callable[..., Awaitable[Client]], db_path: Path
) -> Callable[..., Awaitable[Client]]:
    async def make(**kw: Any) -> Client:
        return await aiohttp_client(create_app(make_settings(db_path, **kw)))

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def error_code(resp: Any) -> str:
    """The machine-readable code of an error answer, checking the documented shape."""
    doc = await resp.json()
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}
    assert doc["error"]["message"]
    code: str = doc["error"]["code"]
    return code


class Api:
    """A test client with the calls every test needs (importlib mode: no helper imports)."""

    seed = SEED
    bearer = staticmethod(bearer)
    error_code = staticmethod(error_code)

    def __init__(self, client: Client) -> None:
        self.client = client

    async def candidate_token(self, cid: str = "AMU-00001") -> str:
        centre = cid.rsplit("-", 1)[0]
        r = await self.client.post(
            "/api/v1/login",
            json={"candidate_id": cid, "centre": centre, "access_code": access_code(SEED, cid)},
        )
        assert r.status == 200, await r.text()
        token: str = (await r.json())["token"]
        return token

    async def jury_token(self, username: str = "national") -> str:
        password = "centre-demo" if username.startswith("centre-") else f"{username}-demo"
        r = await self.client.post(
            "/api/v1/jury/login", json={"username": username, "password": password}
        )
        assert r.status == 200, await r.text()
        token: str = (await r.json())["token"]
        return token

    async def jury(self, username: str = "national") -> dict[str, str]:
        return bearer(await self.jury_token(username))

    async def launch(self, unit_id: str = "ue1", **extra: Any) -> dict[str, Any]:
        r = await self.client.post(
            f"/api/v1/jury/units/{unit_id}/launch",
            json={"reason": "national launch", **extra},
            headers=await self.jury(),
        )
        assert r.status == 200, await r.text()
        doc: dict[str, Any] = await r.json()
        return doc

    async def answer(
        self,
        token: str,
        question_id: str,
        answer: dict[str, Any],
        *,
        final: bool = False,
        unit_id: str = "ue1",
        action_id: str | None = None,
    ) -> Any:
        return await self.client.post(
            f"/api/v1/units/{unit_id}/answers",
            json={
                "action_id": action_id or uuid.uuid4().hex,
                "question_id": question_id,
                "answer": answer,
                "final": final,
                "client_ts": time.time(),
            },
            headers=bearer(token),
        )


@pytest.fixture
def make_api(make_client: Callable[..., Awaitable[Client]]) -> Callable[..., Awaitable[Api]]:
    async def make(**kw: Any) -> Api:
        return Api(await make_client(**kw))

    return make


@pytest.fixture
async def api(make_api: Callable[..., Awaitable[Api]]) -> Api:
    return await make_api()
