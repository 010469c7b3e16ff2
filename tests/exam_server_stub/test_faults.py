"""Timed faults: the domain with a moving clock, and the operator's endpoint on a real app."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.errors import ApiError
from exam_server_stub.faults import Faults
from vigie.wire.http import FaultRequest
from vigie.wire.metrics import FaultKind

OPS = "/api/v1/operator/faults"
TOKEN = "s3cret-operator"


def test_a_timed_fault_adds_to_the_base_knob_and_ends_by_itself() -> None:
    now = [1000.0]
    stalls: list[float] = []
    f = Faults(latency_ms=50, error_rate=0.0, stall=stalls.append, clock=lambda: now[0])
    assert f.latency_ms() == 50
    f.apply(FaultRequest(kind=FaultKind.LATENCY, duration_s=60, ms=400))
    f.apply(FaultRequest(kind=FaultKind.ERROR, duration_s=30, ratio=0.05))
    assert (f.latency_ms(), f.error_rate()) == (400, 0.05)
    assert {a.kind for a in f.active()} == {FaultKind.LATENCY, FaultKind.ERROR}
    now[0] += 31
    assert (f.latency_ms(), f.error_rate()) == (400, 0.0)
    now[0] += 30
    assert (f.latency_ms(), f.error_rate(), f.active()) == (50, 0.0, [])
    f.apply(FaultRequest(kind=FaultKind.DB_STALL, duration_s=15))
    assert stalls == [15]
    with pytest.raises(ApiError, match="needs ms"):
        f.apply(FaultRequest(kind=FaultKind.LATENCY, duration_s=5))


async def test_fault_control_is_off_without_a_token(api: Any) -> None:
    r = await api.client.get(OPS, headers=api.bearer("anything"))
    assert r.status == 403 and await api.error_code(r) == "forbidden"


async def test_only_the_operator_token_applies_faults(make_api: Any) -> None:
    api = await make_api(operator_token=TOKEN)
    body = {"kind": "latency", "duration_s": 5, "ms": 300}
    assert (await api.client.post(OPS, json=body)).status == 401
    r = await api.client.post(OPS, json=body, headers=await api.jury())  # a national juror
    assert r.status == 403
    r = await api.client.post(OPS, json={"kind": "flood", "duration_s": 5}, headers=api.bearer(TOKEN))  # fmt: skip
    assert r.status == 422
    r = await api.client.post(OPS, json=body, headers=api.bearer(TOKEN))
    assert r.status == 200 and (await r.json())["value"] == 300
    start = time.monotonic()
    assert (await api.client.get("/api/v1/me", headers=api.bearer("x"))).status == 401
    assert time.monotonic() - start >= 0.3  # the API waits ...
    start = time.monotonic()
    assert (await api.client.get("/healthz")).status == 200
    assert time.monotonic() - start < 0.3  # ... the probes do not
    active = await (await api.client.get(OPS, headers=api.bearer(TOKEN))).json()
    assert [a["kind"] for a in active["active"]] == ["latency"]


async def test_a_db_stall_holds_acknowledgements_not_the_server(
    make_api: Any, db_path: Path
) -> None:
    api = await make_api(operator_token=TOKEN)
    token, qid = await api.stall_during_unit(TOKEN, 3)
    start = time.monotonic()
    pending = asyncio.create_task(api.answer(token, qid, {"text": "pendant la panne"}))

    async def queued() -> float:  # the server still answers while its database stalls
        text = await (await api.client.get("/metrics")).text()
        return next(
            float(line.split()[1])
            for line in text.splitlines()
            if line.startswith("vigie_writer_queue ")
        )

    for _ in range(100):  # bounded: until the answer has reached the stalled writer
        if await queued() >= 1:
            break
        await asyncio.sleep(0.01)
    assert await queued() >= 1
    assert not pending.done()  # not acknowledged: not on disk
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM answers").fetchone() == (0,)
    r = await pending
    assert r.status == 200 and time.monotonic() - start >= 2.9
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM answers").fetchone() == (1,)
        kinds = [k for (k,) in conn.execute("SELECT kind FROM audit WHERE kind = 'fault'")]
        assert kinds == ["fault"]


async def test_request_cpu_ms_holds_the_event_loop_on_every_api_call(make_api: Any) -> None:
    # The 2015 knob: every API call burns its CPU on the one event loop, so calls made at
    # the same moment wait for each other (a latency knob would let them overlap).
    api = await make_api(request_cpu_ms=60.0)
    headers = await api.jury()
    r = await api.client.get("/api/v1/jury/server", headers=headers)
    assert (await r.json())["knobs"]["request_cpu_ms"] == 60.0
    started = time.perf_counter()
    await asyncio.gather(
        *(api.client.get("/api/v1/jury/centres", headers=headers) for _ in range(5))
    )
    assert time.perf_counter() - started >= 5 * 0.06
    started = time.perf_counter()
    assert (await api.client.get("/healthz")).status == 200  # liveness is never held
    assert time.perf_counter() - started < 0.06
