"""permessage-deflate with a lean compressor: what the tablets inflate, on the real wire."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import zlib
from typing import Any

from exam_server_stub.ws_deflate import SERVER_WBITS, LeanDeflater

TAIL = b"\x00\x00\xff\xff"


def frame_text(payload: bytes) -> bytes:
    """A masked, uncompressed text frame (a tablet may send either)."""
    key = os.urandom(4)
    n = len(payload)
    head = bytes((0x81, 0x80 | n)) if n < 126 else bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    return b0, await reader.readexactly(n)


def test_the_lean_stream_inflates_with_a_standard_window() -> None:
    deflater = LeanDeflater()
    inflater = zlib.decompressobj(-15)
    sent = [
        json.dumps({"type": "hb_ack", "seq": i, "server_ts": 1.5 * i, "instructions": []}).encode()
        for i in range(500)
    ] + [os.urandom(3000).hex().encode()]  # larger than the window, incompressible
    wire = 0
    for message in sent:
        out = (deflater.compress_sync(message) + deflater.flush()).removesuffix(TAIL)
        wire += len(out)
        assert inflater.decompress(out + TAIL) == message
    plain = sum(len(m) for m in sent[:-1])
    assert wire - 6000 < plain / 2  # acks share their history: well under half


async def test_a_tablet_gets_compressed_frames_it_inflates(api: Any) -> None:
    token = await api.candidate_token("AMU-00001")
    reader, writer = await asyncio.open_connection("127.0.0.1", api.client.server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n".encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101") and b"permessage-deflate" in head
    # The server's window is SERVER_WBITS: an inflater of that window alone must do.
    inflater = zlib.decompressobj(-SERVER_WBITS)
    messages = []
    for seq in range(1, 41):
        if seq > 1:
            hb = {
                "type": "hb", "seq": seq - 1, "unit_id": None, "position": 0, "answered": 0,
                "battery": 80, "network": "wifi", "client_ts": time.time(),
            }  # fmt: skip
            writer.write(frame_text(json.dumps(hb).encode()))
        b0, payload = await asyncio.wait_for(read_frame(reader), 5)
        assert b0 & 0x0F == 0x1 and b0 & 0x40, "a compressed text frame"
        messages.append(json.loads(inflater.decompress(payload + TAIL)))
    writer.close()
    assert messages[0]["type"] == "welcome"
    assert [m["seq"] for m in messages[1:]] == list(range(1, 40))
