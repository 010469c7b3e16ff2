"""The receiving half of :class:`simulator.wsclient.WsConnection`: frames parsed from bytes.

A tablet's heartbeat acknowledgement arrives as one small frame, so the common path is a
single frame, one message, no copy beyond the slice: the parser walks one ``bytes``
buffer in place and hands each complete message to the connection's callback, inside
the hub (see wsclient). Fragments, control frames and permessage-deflate are handled
here too; a protocol violation fails the connection with its RFC 6455 close code.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable
from typing import Any

from simulator.wsframe import (
    CLOSE_NO_STATUS,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
    DEFLATE_TAIL,
    MAX_MESSAGE_BYTES,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    WsClosedError,
)

MessageHandler = Callable[[bool, bytes], None]  # (is_text, payload)


class FrameReader:
    """Mixed into the connection, which owns the state below and the sending side."""

    _buf: bytes
    _parts: list[bytes]
    _part_len: int
    _msg_text: bool
    _msg_compressed: bool
    _inflater: Any
    _reset_inflater: bool
    _close_sent: bool
    _on_message: MessageHandler
    closed: bool

    def _fail(self, code: int, reason: str) -> None:
        raise NotImplementedError

    def _finish(self, code: int, reason: str, *, notify: bool = True) -> None:
        raise NotImplementedError

    def _send_frame(
        self, opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False
    ) -> None:
        raise NotImplementedError

    def _feed(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        pos = 0
        end = len(buf)
        try:
            while end - pos >= 2 and not self.closed:
                b0 = buf[pos]
                b1 = buf[pos + 1]
                if b1 & 0x80:
                    self._fail(CLOSE_PROTOCOL_ERROR, "masked frame from server")
                    return
                length = b1 & 0x7F
                head = 2
                if length == 126:
                    if end - pos < 4:
                        break
                    length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                    head = 4
                elif length == 127:
                    if end - pos < 10:
                        break
                    length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                    head = 10
                if length > MAX_MESSAGE_BYTES:
                    self._fail(CLOSE_TOO_BIG, "frame too large")
                    return
                if end - pos < head + length:
                    break
                start = pos + head
                pos = start + length
                self._frame(b0, buf[start:pos])
        except Exception as exc:  # a bug or a corrupt stream must not kill the hub
            self._fail(CLOSE_PROTOCOL_ERROR, f"{type(exc).__name__}: {exc}")
            return
        self._buf = buf[pos:] if pos < end else b""

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode >= 0x8:
            if not fin or len(payload) > 125:
                self._fail(CLOSE_PROTOCOL_ERROR, "bad control frame")
            elif opcode == OP_PING:
                self._send_frame(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                self._closing_frame(payload)
            elif opcode != OP_PONG:
                self._fail(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")
            return
        if opcode == OP_CONT:
            if not self._parts:
                self._fail(CLOSE_PROTOCOL_ERROR, "continuation without a message")
                return
        elif opcode in (OP_TEXT, OP_BINARY):
            if self._parts:
                self._fail(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
                return
            self._msg_text = opcode == OP_TEXT
            self._msg_compressed = bool(b0 & 0x40)
            if self._msg_compressed and self._inflater is None:
                self._fail(CLOSE_PROTOCOL_ERROR, "compressed frame without permessage-deflate")
                return
            if fin:  # the common case: one frame, one message
                self._deliver(payload)
                return
        else:
            self._fail(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")
            return
        self._parts.append(payload)
        self._part_len += len(payload)
        if self._part_len > MAX_MESSAGE_BYTES:
            self._fail(CLOSE_TOO_BIG, "message too large")
        elif fin:
            parts, self._parts, self._part_len = self._parts, [], 0
            self._deliver(b"".join(parts))

    def _deliver(self, payload: bytes) -> None:
        if self._msg_compressed:
            payload = self._inflater.decompress(payload + DEFLATE_TAIL, MAX_MESSAGE_BYTES)
            if self._inflater.unconsumed_tail:
                self._fail(CLOSE_TOO_BIG, "inflated message too large")
                return
            if self._reset_inflater:
                self._inflater = zlib.decompressobj(-15)
        self._on_message(self._msg_text, payload)

    def _closing_frame(self, payload: bytes) -> None:
        code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else CLOSE_NO_STATUS
        reason = payload[2:].decode("utf-8", "replace")
        if not self._close_sent:
            self._close_sent = True
            with contextlib.suppress(WsClosedError):  # echo the close, as RFC 6455 asks
                self._send_frame(OP_CLOSE, payload[:2])
        self._finish(code, reason)
