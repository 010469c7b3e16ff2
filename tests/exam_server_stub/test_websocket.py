"""The tablet websocket: heartbeats, instructions, pushes, close codes, the connection cap."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from vigie.protocol import MAX_WS_MESSAGE_BYTES, WsClose

WS = "/api/v1/ws"


def hb(seq: Any, unit_id: str | None = None, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "hb", "seq": seq, "unit_id": unit_id, "position": 0, "answered": 0,
        "battery": 80, "network": "wifi", "client_ts": time.time(),
    }  # fmt: skip
    doc.update(over)
    return doc


async def connect(api: Any, cid: str = "AMU-00001", **kw: Any) -> Any:
    token = await api.candidate_token(cid)
    ws = await api.client.ws_connect(WS, headers=api.bearer(token), **kw)
    welcome = await ws.receive_json(timeout=5)
    assert welcome["type"] == "welcome" and welcome["candidate_id"] == cid
    return ws


async def closed_with(ws: Any) -> int | None:
    """The close code the server sent (from the close frame itself)."""
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE, msg
    code: int = msg.data
    return code


async def test_heartbeat_ack_and_instruction_until_confirmed(api: Any) -> None:
    ws = await connect(api)
    await ws.send_json(hb(1))
    ack = await ws.receive_json(timeout=5)
    assert ack == {"type": "hb_ack", "seq": 1, "server_ts": ack["server_ts"], "instructions": []}
    r = await api.client.post(
        "/api/v1/jury/messages",
        json={"candidate_id": "AMU-00001", "text": "Raise your hand", "reason": "check"},
        headers=await api.jury(),
    )
    assert r.status == 200
    for seq in (2, 3):  # rides on every ack until confirmed
        await ws.send_json(hb(seq))
        ack = await ws.receive_json(timeout=5)
        assert [i["kind"] for i in ack["instructions"]] == ["message"]
    await ws.send_json({"type": "ack", "ids": [ack["instructions"][0]["id"]]})
    await ws.send_json(hb(4))
    assert (await ws.receive_json(timeout=5))["instructions"] == []
    await ws.close()


async def test_launch_and_close_are_pushed(api: Any) -> None:
    socks = [await connect(api, cid) for cid in ("AMU-00001", "LILLE-00001")]
    unit = await api.launch()
    for ws in socks:
        msg = await ws.receive_json(timeout=5)
        assert msg["type"] == "launch" and msg["unit_id"] == "ue1"
        assert msg["deadline"] == unit["deadline"]
    r = await api.client.post(
        "/api/v1/jury/units/ue1/close", json={"reason": "end"}, headers=await api.jury()
    )
    assert r.status == 200
    for ws in socks:
        msg = await ws.receive_json(timeout=5)
        assert msg["type"] == "close_unit" and msg["unit_id"] == "ue1"
        await ws.close()


async def test_protocol_violations_close_1008(api: Any) -> None:
    for bad in ("not json", "[1]", '{"type": "dance"}', '{"type": "hb", "seq": 1}'):
        ws = await connect(api)
        await ws.send_str(bad)
        assert await closed_with(ws) == WsClose.POLICY_VIOLATION, bad
    ws = await connect(api)
    await ws.send_json(hb("one"))  # ill-typed field
    assert await closed_with(ws) == WsClose.POLICY_VIOLATION


async def test_oversized_message_closes_1009(api: Any) -> None:
    ws = await connect(api)
    await ws.send_str("x" * 9000)
    assert await closed_with(ws) == WsClose.MESSAGE_TOO_BIG


def padded(doc: dict[str, Any], size: int) -> str:
    text = json.dumps(doc, ensure_ascii=False)
    return text[:-1] + " " * (size - len(text)) + "}"


@pytest.mark.parametrize("compress", [0, 15])
async def test_the_limit_is_over_8_kib(api: Any, compress: int) -> None:
    ws = await connect(api, compress=compress)
    await ws.send_str(padded(hb(1), MAX_WS_MESSAGE_BYTES))  # exactly 8 KiB: a message
    assert (await ws.receive_json(timeout=5))["type"] == "hb_ack"
    await ws.send_str(padded(hb(2), MAX_WS_MESSAGE_BYTES + 1))
    assert await closed_with(ws) == WsClose.MESSAGE_TOO_BIG
    # Bytes, not characters: 2,100 two-byte characters are over 4 KiB but under 8 KiB.
    ws = await connect(api, compress=compress)
    await ws.send_str(padded(hb(3, unit_id="é" * 2100), 4300))
    assert (await ws.receive_json(timeout=5))["type"] == "hb_ack"
    await ws.send_str(padded(hb(4, unit_id="é" * 4100), 8300))
    assert await closed_with(ws) == WsClose.MESSAGE_TOO_BIG


async def test_bad_token_closes_1008(api: Any) -> None:
    headers: dict[str, str]
    for headers in ({}, api.bearer("forged.token")):
        ws = await api.client.ws_connect(WS, headers=headers)
        assert await closed_with(ws) == WsClose.POLICY_VIOLATION
    token = await api.candidate_token()
    ws = await api.client.ws_connect(f"{WS}?token={token}")  # query form is accepted
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"
    await ws.close()


async def test_newer_socket_supersedes_older(api: Any) -> None:
    first = await connect(api)
    second = await connect(api)
    assert await closed_with(first) == WsClose.SUPERSEDED
    await second.send_json(hb(1))
    assert (await second.receive_json(timeout=5))["type"] == "hb_ack"
    await second.close()


async def test_connection_cap_answers_503_with_retry_after(make_api: Any) -> None:
    api = await make_api(max_connections=2)
    a = await connect(api, "AMU-00001")
    b = await connect(api, "AMU-00002")
    token = await api.candidate_token("AMU-00003")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:  # the third socket
        await api.client.ws_connect(WS, headers=api.bearer(token))
    assert refused.value.status == 503
    assert refused.value.headers is not None and int(refused.value.headers["Retry-After"]) > 0
    await a.close()
    c = None
    for _ in range(100):  # the slot frees once the server has processed the close
        try:
            c = await connect(api, "AMU-00003")
            break
        except aiohttp.WSServerHandshakeError:
            await asyncio.sleep(0.02)
    assert c is not None
    await c.close()
    await b.close()


async def test_silent_tablet_goes_late_then_lost_then_4002(make_api: Any) -> None:
    api = await make_api(
        heartbeat_interval_s=0.05, late_after_s=0.15, lost_after_s=0.4, sweep_interval_s=0.05
    )
    await api.launch()
    ws = await connect(api)
    await ws.send_json(hb(1, "ue1"))
    await ws.receive_json(timeout=5)
    jury = await api.jury("observer")
    seen: set[str] = set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        snap = await (await api.client.get("/api/v1/jury/snapshot?centre=AMU", headers=jury)).json()
        seen.add(next(r["state"] for r in snap["candidates"] if r["id"] == "AMU-00001"))
        if "lost" in seen:
            break
        await asyncio.sleep(0.03)
    assert await closed_with(ws) == WsClose.HEARTBEAT_TIMEOUT
    assert "late" in seen
    snap = await (await api.client.get("/api/v1/jury/snapshot?centre=AMU", headers=jury)).json()
    row = next(r for r in snap["candidates"] if r["id"] == "AMU-00001")
    assert row["state"] == "lost" and row["disconnected_s"] >= 0
    # Reconnecting brings it back and counts a reconnect.
    ws = await connect(api)
    await ws.send_json(hb(2, "ue1"))
    await ws.receive_json(timeout=5)
    snap = await (await api.client.get("/api/v1/jury/snapshot?centre=AMU", headers=jury)).json()
    row = next(r for r in snap["candidates"] if r["id"] == "AMU-00001")
    assert row["state"] == "in_progress" and row["reconnects"] == 1
    await ws.close()
