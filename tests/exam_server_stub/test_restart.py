"""Crash recovery: a real ``vigie serve`` process on a real SQLite file, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from vigie.demo import access_code, generate_session
from vigie.testing import ServerProcess

SEED = 11
COUNTS = '{"AMU": 4, "NANTES": 2}'


class Server(ServerProcess):
    def __init__(self, db: Path, counts_file: Path) -> None:
        super().__init__(db, ["--seed", str(SEED), "--demo-counts", str(counts_file)])

    def start(self, attempts: int = 3) -> Server:
        super().start(attempts)
        return self


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    counts = tmp_path / "counts.json"
    counts.write_text(COUNTS)
    srv = Server(tmp_path / "exam.sqlite3", counts)
    yield srv
    srv.close()


async def _login(s: aiohttp.ClientSession, url: str, cid: str) -> str:
    body = {
        "candidate_id": cid,
        "centre": cid.rsplit("-", 1)[0],
        "access_code": access_code(SEED, cid),
    }
    async with s.post(f"{url}/api/v1/login", json=body) as r:
        assert r.status == 200
        token: str = (await r.json())["token"]
        return token


async def test_kill_9_loses_no_acknowledged_answer(server: Server) -> None:
    unit = generate_session(SEED).unit("ue1")
    assert unit is not None
    open_qs = [q for q in unit.questions if q.dossier_id is None and q.format.value == "QROC"]
    server.start()
    acked: dict[str, tuple[str, dict[str, Any]]] = {}
    async with aiohttp.ClientSession() as s:
        tokens = {cid: await _login(s, server.url, cid) for cid in ("AMU-00001", "NANTES-00002")}
        async with s.post(
            f"{server.url}/api/v1/jury/login",
            json={"username": "national", "password": "national-demo"},
        ) as r:
            jury = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with s.post(
            f"{server.url}/api/v1/jury/units/ue1/launch", json={"reason": "go"}, headers=jury
        ) as r:
            launched = await r.json()
        async with s.post(
            f"{server.url}/api/v1/jury/extra-time",
            json={
                "unit_id": "ue1",
                "candidate_id": "AMU-00001",
                "seconds": 90,
                "reason": "incident",
            },
            headers=jury,
        ) as r:
            assert r.status == 200

        async def answer(cid: str, n: int) -> None:
            q = open_qs[n % len(open_qs)]
            action = uuid.uuid4().hex
            doc = {
                "action_id": action,
                "question_id": q.id,
                "answer": {"text": f"mot {n}"},
                "final": False,
                "client_ts": time.time(),
            }
            async with s.post(
                f"{server.url}/api/v1/units/ue1/answers",
                json=doc,
                headers={"Authorization": f"Bearer {tokens[cid]}"},
            ) as r:
                if r.status == 200:
                    acked[action] = (cid, doc)
                    first_ack.set()

        # Answers in flight while the process is killed: only acknowledged ones count. The
        # kill waits for a first acknowledgement (not a fixed delay: a loaded machine may
        # take longer), while most of the 80 are still in flight.
        first_ack = asyncio.Event()
        tasks = [asyncio.create_task(answer(cid, n)) for n in range(40) for cid in tokens]
        await asyncio.wait_for(first_ack.wait(), timeout=30)
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        await asyncio.gather(*tasks, return_exceptions=True)
        assert acked, "no answer was acknowledged before the kill"

        server.start()
        for cid, token in tokens.items():  # old tokens still work: the secret is in the DB
            async with s.get(
                f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
            ) as r:
                assert r.status == 200
                me = await r.json()
            ue1 = next(u for u in me["units"] if u["unit_id"] == "ue1")
            assert ue1["launched_at"] == launched["launched_at"]
            assert ue1["extra_time_s"] == (90 if cid == "AMU-00001" else 0)
            mine = [a for a in acked.values() if a[0] == cid]
            # Every acknowledged action id is known after the restart: re-sending is a no-op.
            for _, doc in mine:
                async with s.post(
                    f"{server.url}/api/v1/units/ue1/answers",
                    json=doc,
                    headers={"Authorization": f"Bearer {token}"},
                ) as r:
                    assert r.status == 200
                    assert (await r.json())["duplicate"] is True
        async with s.get(
            f"{server.url}/api/v1/jury/candidates/AMU-00001/timeline", headers=jury
        ) as r:
            kinds = [e["kind"] for e in (await r.json())["events"]]
        n_amu = sum(1 for a in acked.values() if a[0] == "AMU-00001")
        assert sum(k in ("answer", "answer_change") for k in kinds) >= n_amu
        assert "launch" in kinds and "extra_time" in kinds
    assert server.stop(signal.SIGTERM) == 0  # and a clean shutdown on SIGTERM


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
async def test_sigterm_closes_sockets_with_1001(server: Server) -> None:
    server.start()
    async with aiohttp.ClientSession() as s:
        token = await _login(s, server.url, "AMU-00001")
        ws = await s.ws_connect(f"{server.url}/api/v1/ws?token={token}")
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        server.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        msg = await ws.receive(timeout=15)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
    assert server.proc is not None and server.proc.wait(timeout=30) == 0


async def test_kill_9_keeps_reconnects_and_time_disconnected(server: Server) -> None:
    server.start()
    async with aiohttp.ClientSession() as s:
        token = await _login(s, server.url, "AMU-00001")
        async with s.post(
            f"{server.url}/api/v1/jury/login",
            json={"username": "national", "password": "national-demo"},
        ) as r:
            jury = {"Authorization": f"Bearer {(await r.json())['token']}"}

        async def row(cid: str) -> tuple[dict[str, Any], float]:
            async with s.get(f"{server.url}/api/v1/jury/snapshot", headers=jury) as r:
                assert r.status == 200
                doc = await r.json()
            return next(x for x in doc["candidates"] if x["id"] == cid), doc["server_ts"]

        async def connect() -> aiohttp.ClientWebSocketResponse:
            ws = await s.ws_connect(f"{server.url}/api/v1/ws?token={token}")
            assert (await ws.receive_json(timeout=10))["type"] == "welcome"
            return ws

        ws = await connect()
        async with s.post(
            f"{server.url}/api/v1/jury/units/ue1/launch", json={"reason": "go"}, headers=jury
        ) as r:
            assert r.status == 200
        for _ in range(2):  # two drops during the unit, each followed by a reconnect
            await ws.close()
            for _ in range(200):  # bounded: the server notices the close promptly
                if (await row("AMU-00001"))[0]["state"] == "lost":
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            ws = await connect()
        # An awaited jury action: the connection audit queued before it is committed too.
        async with s.post(
            f"{server.url}/api/v1/jury/messages",
            json={"candidate_id": "AMU-00001", "text": "ok?", "reason": "check"},
            headers=jury,
        ) as r:
            assert r.status == 200
            last_commit = (await r.json())["ts"]
        before, _ = await row("AMU-00001")
        assert before["reconnects"] == 2 and before["disconnected_s"] >= 0.4
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        await ws.close()

        server.start()
        after, server_ts = await row("AMU-00001")
        never, _ = await row("NANTES-00001")
    assert after["reconnects"] == 2
    assert after["state"] == "lost"  # its socket died with the process
    # Time disconnected: the drops before the crash, plus the outage since the last
    # moment the server is known alive (its last committed audit row).
    outage = server_ts - last_commit
    assert after["disconnected_s"] == pytest.approx(before["disconnected_s"] + outage, abs=0.05)
    assert never["state"] == "not_connected" and never["reconnects"] == 0
    assert never["disconnected_s"] == 0
