"""The metrics the fault alerts read, moved by the faults themselves on a real app.

A db_stall (through the operator's endpoint) ages the writer's oldest pending write; a
tablet back on a new socket during a unit counts one reconnect for its centre.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from vigie.wire.metrics import Metric as M

OPS = "/api/v1/operator/faults"
TOKEN = "s3cret-operator"
WS = "/api/v1/ws"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(api: Any) -> Samples:
    text = await (await api.client.get("/metrics")).text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def reconnects(samples: Samples, centre: str) -> float:
    return samples[(M.WEBSOCKET_RECONNECTS.total, (("centre", centre),))]


async def tablet(api: Any, cid: str) -> Any:
    token = await api.candidate_token(cid)
    ws = await api.client.ws_connect(WS, headers=api.bearer(token))
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"
    return ws


async def test_every_centre_has_its_series_at_zero_from_the_start(api: Any) -> None:
    samples = await scrape(api)
    for centre in ("AMU", "LILLE", "LILLE-CATHO"):
        assert reconnects(samples, centre) == 0
        assert samples[(M.PLANNED_EXTRA_MISSING.value, (("centre", centre),))] == 0
    assert samples[(M.WRITER_OLDEST.value, ())] == 0
    assert samples[(M.WRITER_QUEUE.value, ())] == 0


async def test_a_db_stall_ages_the_oldest_pending_write_then_it_falls_back(
    make_api: Any,
) -> None:
    api = await make_api(operator_token=TOKEN)
    token, qid = await api.stall_during_unit(TOKEN, 2)
    pending = asyncio.create_task(api.answer(token, qid, {"text": "pendant la panne"}))
    samples: Samples = {}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # bounded: until the oldest write has aged 1 s
        samples = await scrape(api)
        if samples[(M.WRITER_OLDEST.value, ())] >= 1.0:
            break
        await asyncio.sleep(0.05)
    assert 1.0 <= samples[(M.WRITER_OLDEST.value, ())] < 2.5
    # The operator's audit and the answer, whether the writer holds them or they still queue.
    assert samples[(M.WRITER_QUEUE.value, ())] >= 2
    assert not pending.done()  # the answer waits with the stalled writes
    assert (await pending).status == 200
    # A write queued during the stall (a login's audit row, not awaited) may ride the next
    # group commit, a moment after the answer's: wait for the queue to drain, bounded.
    deadline = time.monotonic() + 3
    samples = await scrape(api)
    while samples[(M.WRITER_QUEUE.value, ())] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        samples = await scrape(api)
    assert samples[(M.WRITER_OLDEST.value, ())] < 0.5
    assert samples[(M.WRITER_QUEUE.value, ())] == 0
    assert samples[(M.ANSWER_COMMIT.value + "_count", ())] == 1


async def test_a_tablet_back_during_a_unit_counts_one_reconnect_for_its_centre(api: Any) -> None:
    ws = await tablet(api, "AMU-00001")  # before the launch: not during a unit
    await ws.close()
    ws = await tablet(api, "AMU-00001")
    assert reconnects(await scrape(api), "AMU") == 0
    await api.launch()
    other = await tablet(api, "LILLE-00001")  # its first socket of the unit: not a return
    assert reconnects(await scrape(api), "AMU") == 0
    for _ in range(2):  # connected at the launch: dropped, back; dropped, back
        await ws.close()
        ws = await tablet(api, "AMU-00001")
    samples = await scrape(api)
    assert reconnects(samples, "AMU") == 2
    assert reconnects(samples, "LILLE") == 0
    await ws.close()
    await other.close()
