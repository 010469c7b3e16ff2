"""The heartbeat's hot path, decode + check + ack encode, by library (one core, no I/O).

The exam server handles 12,000 tablets' heartbeats every 5 s on one event loop; the wire
types (``vigie/wire/ws.py``) were chosen by this measurement. Printed per heartbeat, each
against the baseline measured in the same run: hand-checked orjson, the code that the
msgspec types replaced in ``exam_server_stub/ws.py``; pydantic v2 for reference.

    .venv/bin/python bench/wire_heartbeat.py [--n 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any, Literal

import orjson
import pydantic

from vigie.wire import ws

FRAME = orjson.dumps(
    {
        "type": "hb", "seq": 41, "unit_id": "ue1", "position": 17, "answered": 16,
        "battery": 83, "network": "wifi", "client_ts": 1769000000.25,
    }
)  # fmt: skip
HB_KEYS = frozenset(
    ("type", "seq", "unit_id", "position", "answered", "battery", "network", "client_ts")
)


def hand_orjson(frame: bytes) -> bytes:
    doc = orjson.loads(frame)
    if type(doc) is not dict or doc.get("type") != "hb" or doc.keys() != HB_KEYS:
        raise ValueError
    seq, unit_id, position, answered = doc["seq"], doc["unit_id"], doc["position"], doc["answered"]
    battery, network, client_ts = doc["battery"], doc["network"], doc["client_ts"]
    if not (
        type(seq) is int
        and (unit_id is None or type(unit_id) is str)
        and type(position) is int
        and type(answered) is int
        and type(battery) is int
        and type(network) is str
        and type(client_ts) in (float, int)
    ):
        raise ValueError
    return orjson.dumps({"type": "hb_ack", "seq": seq, "server_ts": 1.0, "instructions": []})


_NONE: list[ws.Instruction] = []


def msgspec_structs(frame: bytes) -> bytes:
    msg = ws.tablet_decoder.decode(frame)
    assert type(msg) is ws.Heartbeat
    return ws.encoder.encode(ws.HeartbeatAck(seq=msg.seq, server_ts=1.0, instructions=_NONE))


class PHeartbeat(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", strict=True)
    type: Literal["hb"]
    seq: int
    unit_id: str | None
    position: int
    answered: int
    battery: int | None
    network: str
    client_ts: float


class PAck(pydantic.BaseModel):
    type: Literal["hb_ack"] = "hb_ack"
    seq: int
    server_ts: float
    instructions: list[Any]


def pydantic_models(frame: bytes) -> bytes:
    msg = PHeartbeat.model_validate_json(frame)
    return PAck(seq=msg.seq, server_ts=1.0, instructions=[]).model_dump_json().encode()


def per_call_ns(fn: Callable[[bytes], bytes], n: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(n):
        fn(FRAME)
    return (time.perf_counter_ns() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    runs = {
        "hand-checked orjson (baseline)": hand_orjson,
        "msgspec Structs (vigie)": msgspec_structs,
    }
    runs["pydantic v2 models"] = pydantic_models
    assert orjson.loads(msgspec_structs(FRAME)) == orjson.loads(hand_orjson(FRAME))
    results = {
        name: [per_call_ns(fn, args.n) for _ in range(args.repeat)] for name, fn in runs.items()
    }
    base = statistics.median(results["hand-checked orjson (baseline)"])
    print(f"{'heartbeat decode+check+ack':<34}{'median ns':>10}{'min ns':>9}{'vs baseline':>13}")
    for name, ns in results.items():
        med = statistics.median(ns)
        print(f"{name:<34}{med:>10.0f}{min(ns):>9.0f}{med / base:>12.2f}x")


if __name__ == "__main__":
    main()
