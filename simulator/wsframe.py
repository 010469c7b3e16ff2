"""Websocket frames as a client writes them (RFC 6455), the codes and the errors.

Shared by :mod:`simulator.wshandshake` (the opening handshake) and
:mod:`simulator.wsclient` (the connection driven from the gevent hub).
"""

from __future__ import annotations

import random

DEFLATE_TAIL = b"\x00\x00\xff\xff"
#: Our own compressor uses a 512-byte window and the smallest memory level: 12,000 tablets
#: each holding a default 256 KiB deflate state would not fit in a generator process.
CLIENT_WBITS = 9
CLIENT_MEMLEVEL = 1
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006  # never on the wire: the socket dropped without a close frame
CLOSE_TOO_BIG = 1009


class WsError(Exception):
    """The websocket could not be opened or was used after it closed."""


class WsHandshakeError(WsError):
    """The server answered the upgrade with something else than 101."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(f"websocket upgrade refused: HTTP {status}")
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body


class WsClosedError(WsError):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"websocket closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the repeated 4-byte ``key``, as one big-integer operation."""
    n = len(payload)
    if not n:
        return payload
    keys = key * ((n >> 2) + 1)
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keys[:n], "little")).to_bytes(
        n, "little"
    )


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False, key: bytes | None = None
) -> bytes:
    """One client frame (always masked, as RFC 6455 requires of clients)."""
    if key is None:
        key = random.getrandbits(32).to_bytes(4, "little")
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = bytes((b0, 0x80 | n))
    elif n < 65536:
        head = bytes((b0, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((b0, 0xFF)) + n.to_bytes(8, "big")
    return head + key + mask(payload, key)
