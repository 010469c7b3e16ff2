"""permessage-deflate at 12,000 sockets: a small compressor per tablet.

aiohttp gives every compressed socket zlib's defaults (a 32 KiB window, memLevel 8): about
256 KiB allocated per socket, most of it touched within minutes (the hash table at once,
the window and its chains as acks flow), so a national fleet would cost the server some
3 GiB for compressors alone. What the server sends a tablet is small, repetitive JSON (an
``hb_ack`` is ~100 bytes, the welcome a few KiB), which a 1 KiB window compresses as well.

RFC 7692 (section 7.1.2.1) lets a sender use a smaller window than the one negotiated
(an inflater with a larger window decodes it), so no handshake change is needed: once a
socket is prepared with deflate, its writer's compressor is replaced by one of
``SERVER_WBITS`` and ``MEMLEVEL`` (about 12 KiB instead of 256). ``bench/server_heartbeat.py
--only deflate`` prints the server's memory per tablet with it.

The inflater of what the tablets send stays aiohttp's (32 KiB window, allocated at the first
compressed message): aiohttp's compiled reader does not let it be replaced.
"""

from __future__ import annotations

import zlib

from aiohttp import web

SERVER_WBITS = 10  # 1 KiB window: several acks of history (zlib turns raw 8 into 9)
MEMLEVEL = 2  # 512 hash heads, 256-symbol literal buffer


class LeanDeflater:
    """The interface aiohttp's websocket writer uses of its compressor, on a lean zlib
    stream (frames here are a few KiB at most, so compressing inline is right)."""

    __slots__ = ("_z",)

    def __init__(self, wbits: int = SERVER_WBITS) -> None:
        self._z = zlib.compressobj(zlib.Z_BEST_SPEED, zlib.DEFLATED, -wbits, MEMLEVEL)

    def compress_sync(self, data: bytes) -> bytes:
        return self._z.compress(data)

    async def compress(self, data: bytes) -> bytes:
        return self._z.compress(data)

    def flush(self, mode: int = zlib.Z_SYNC_FLUSH) -> bytes:
        return self._z.flush(mode)


def use_lean_deflate(ws: web.WebSocketResponse) -> bool:
    """After ``prepare``: a lean compressor where deflate was negotiated (True), else
    nothing. The window never exceeds the one agreed with the tablet."""
    writer = getattr(ws, "_writer", None)
    agreed = getattr(writer, "compress", 0)
    if not agreed or not hasattr(writer, "_compressobj"):
        return False
    writer._compressobj = LeanDeflater(min(int(agreed), SERVER_WBITS))  # type: ignore[union-attr]
    return True
