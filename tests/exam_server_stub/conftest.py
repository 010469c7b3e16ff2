"""Fixtures: a real app on a real SQLite file in tmp_path, and logged-in clients."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiohttp.typedefs import Handler

from exam_server_stub.app import create_app
from exam_server_stub.openapi import spec
from exam_server_stub.settings import ServerSettings
from vigie.demo import access_code, generate_session

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


@cache
def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(spec())
    return doc


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def contract_problems(path: str, method: str, status: int, media: str, body: bytes) -> list[str]:
    """Why a response contradicts the OpenAPI document (empty when it does not)."""
    op = _document()["paths"].get(path, {}).get(method.lower())
    if op is None:
        return [f"{method} {path} is not in the document"]
    response = op["responses"].get(str(status))
    if response is None:
        return [f"{method} {path} answered {status}, which the document does not list"]
    content = response.get("content")
    if content is None or media not in content:
        return [f"{method} {path} {status}: {media} is not what the document says"] if body else []
    if media != "application/json":
        return []
    pointer = _pointer("paths", path, method.lower(), "responses", str(status), "content", media, "schema")  # fmt: skip
    # The whole document is the root, so that its #/components references resolve.
    validator = jsonschema.Draft202012Validator({**_document(), "$ref": pointer})
    try:
        instance = json.loads(body)
    except ValueError:
        return [f"{method} {path} {status}: the body is not JSON"]
    return [f"{method} {path} {status}: {e.json_path}: {e.message[:300]}" for e in validator.iter_errors(instance)]  # fmt: skip


@web.middleware
async def _contract_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    resp = await handler(request)
    resource = request.match_info.route.resource
    if isinstance(resp, web.Response) and resource is not None and request.method != "HEAD":
        if resp.status == 405 or (resp.status == 404 and not resource.canonical.startswith("/")):
            return resp  # no operation to check against (documented globally)
        body = resp.body if isinstance(resp.body, bytes) else b""
        request.app[CONTRACT_PROBLEMS].extend(
            contract_problems(
                resource.canonical, request.method, resp.status, resp.content_type, body
            )
        )
    return resp


CONTRACT_PROBLEMS = web.AppKey("contract_problems", list[str])


@pytest.fixture
def make_client(
    aiohttp_client: Callable[..., Awaitable[Client]], db_path: Path
) -> Iterator[Callable[..., Awaitable[Client]]]:
    """Every response a test receives is checked against docs/openapi.json's document."""
    found: list[str] = []

    async def make(**kw: Any) -> Client:
        app = create_app(make_settings(db_path, **kw))
        app[CONTRACT_PROBLEMS] = found
        app.middlewares.insert(0, _contract_mw)
        return await aiohttp_client(app)

    yield make
    assert not found, "responses that contradict the OpenAPI document:\n" + "\n".join(found)


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

    async def stall_during_unit(self, operator_token: str, seconds: float) -> tuple[str, str]:
        """ue1 launched, then a db_stall of ``seconds``: a candidate's token and a plain QROC
        question of ue1 to answer while the writer commits nothing."""
        token = await self.candidate_token()
        await self.launch()
        unit = generate_session(self.seed).unit("ue1")
        assert unit is not None
        q = next(q for q in unit.questions if q.dossier_id is None and q.format.value == "QROC")
        r = await self.client.post(
            "/api/v1/operator/faults",
            json={"kind": "db_stall", "duration_s": seconds},
            headers=bearer(operator_token),
        )
        assert r.status == 200
        return token, q.id

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


@pytest.fixture(scope="module")
def make_chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Headless Chromium drivers (extra flags per call), all quit at the module's end."""
    from tests.exam_server_stub.chromium import start_chromium

    drivers: list[Any] = []

    def make(*flags: str) -> Any:
        driver = start_chromium(tmp_path_factory.mktemp("chromium"), flags)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()
