"""A lean websocket client for gevent (RFC 6455, with RFC 7692 permessage-deflate).

Thousands of simulated tablets live in one generator process, so a heartbeat must cost
a few tens of microseconds. Off-the-shelf clients (websocket-client) block a greenlet in
``recv`` and build frame objects for every message; here the connection is driven by
libev watchers on the gevent hub: a readable socket calls :meth:`WsConnection._on_readable`
directly in the hub, frames are parsed from one ``bytes`` buffer, and sends are a single
non-blocking ``send``. No greenlet switch happens per message.

Only the opening handshake blocks (it runs in the caller's greenlet, with a timeout).
Callbacks run inside the hub: they must not block (no sleep, no socket wait).
"""

from __future__ import annotations

import contextlib
import socket as _socket
import struct
import sys
import zlib
from collections.abc import Callable
from typing import Any

import gevent
import gevent.queue

from simulator.wsframe import (
    CLIENT_MEMLEVEL,
    CLIENT_WBITS,
    CLOSE_ABNORMAL,
    CLOSE_NORMAL,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
    DEFLATE_TAIL,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    WsClosedError,
    WsError,
    WsHandshakeError,
    encode_frame,
    mask,
)
from simulator.wshandshake import DEFLATE_OFFER, upgrade
from simulator.wsread import FrameReader, MessageHandler

__all__ = [
    "CLOSE_ABNORMAL",
    "CLOSE_NORMAL",
    "CLOSE_PROTOCOL_ERROR",
    "CLOSE_TOO_BIG",
    "DEFLATE_OFFER",
    "OP_BINARY",
    "OP_TEXT",
    "WsClosedError",
    "WsConnection",
    "WsError",
    "WsHandshakeError",
    "connect",
    "encode_frame",
    "mask",
]

_LINGER_RST = struct.pack("ii", 1, 0)  # on, 0 s: close() sends a RST


class _Detached:
    """Stands for a socket handed to someone else (see :meth:`WsConnection.detach`)."""

    def close(self) -> None:
        pass


CloseHandler = Callable[[int, str], None]  # (code, reason)


def connect(
    host: str,
    port: int,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    deflate: bool = False,
    timeout: float = 10.0,
    source: str | None = None,
) -> WsConnection:
    """Open a websocket (blocking the calling greenlet, at most ``timeout`` per step),
    from the IPv4 address ``source`` when given.

    Raises :class:`WsHandshakeError` for a non-101 answer, ``OSError`` (including
    ``ConnectionRefusedError`` and ``TimeoutError``) for network failures.
    """
    sock, rest, params = upgrade(host, port, path, headers or {}, deflate, timeout, source)
    return WsConnection(sock, rest, params)


class WsConnection(FrameReader):
    """An open websocket, read by a libev watcher in the hub.

    Call :meth:`start` once with the callbacks; without callbacks, messages queue up for
    :meth:`recv` (handy in tests and scripts, not on the hot path).
    """

    def __init__(self, sock: Any, leftover: bytes, deflate: dict[str, str | None] | None) -> None:
        self._gsock = sock
        self._raw = sock._sock  # the non-blocking _socket.socket under gevent's wrapper
        self._fd: int = sock.fileno()
        self._buf = leftover
        self._parts: list[bytes] = []
        self._part_len = 0
        self._msg_text = False
        self._msg_compressed = False
        self._out = b""
        self._write_watcher: Any = None
        self._read_watcher: Any = None
        self._on_message: MessageHandler = self._queue_message
        self._on_close: CloseHandler = self._queue_close
        self._inbox: gevent.queue.Queue[tuple[bool, bytes] | WsClosedError] | None = None
        self.closed = False
        self.paused = False  # not reading (see pause)
        self.close_code: int | None = None
        self.close_reason = ""
        self._close_sent = False
        self.deflate = deflate is not None
        self._inflater: Any = None
        self._deflater: Any = None
        self._reset_inflater = False
        self._reset_deflater = False
        if deflate is not None:
            # Server context takeover (the default) means one inflater for the connection.
            self._reset_inflater = "server_no_context_takeover" in deflate
            self._inflater = zlib.decompressobj(-15)
            # Without client context takeover agreed we may still keep ours: a peer's
            # inflater handles any window up to 15 bits (RFC 7692 section 7.1.2).
            self._reset_deflater = "client_no_context_takeover" in deflate
            self._deflater = zlib.compressobj(6, zlib.DEFLATED, -CLIENT_WBITS, CLIENT_MEMLEVEL)

    # --- set-up ------------------------------------------------------------------------
    def start(
        self, on_message: MessageHandler | None = None, on_close: CloseHandler | None = None
    ) -> None:
        if on_message is None or on_close is None:
            self._inbox = gevent.queue.Queue()
        if on_message is not None:
            self._on_message = on_message
        if on_close is not None:
            self._on_close = on_close
        loop = gevent.get_hub().loop
        self._read_watcher = loop.io(self._fd, 1)
        self._read_watcher.start(self._on_readable)
        if self._buf:
            # bytes that arrived with the handshake answer: parse them from the hub too
            buf, self._buf = self._buf, b""
            loop.run_callback(self._feed, buf)

    # --- sending (any greenlet or hub callback) --------------------------------------------
    def send_text(self, data: bytes | str, *, fragment: int = 0) -> None:
        self._send_message(OP_TEXT, data.encode() if isinstance(data, str) else data, fragment)

    def send_binary(self, data: bytes, *, fragment: int = 0) -> None:
        self._send_message(OP_BINARY, data, fragment)

    def ping(self, payload: bytes = b"") -> None:
        self._send_frame(OP_PING, payload)

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Start the closing handshake; the close callback fires when the server answers
        (or when the socket drops)."""
        if self.closed or self._close_sent:
            return
        self._close_sent = True
        self._send_frame(OP_CLOSE, code.to_bytes(2, "big") + reason.encode()[:120])

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (and without callback)."""
        self._finish(CLOSE_ABNORMAL, "aborted", notify=False)

    def reset(self) -> None:
        """Abort with a RST (SO_LINGER 0), as a middlebox cutting the connection does; the
        close callback fires as for a reset from the peer."""
        if self.closed:
            return
        with contextlib.suppress(OSError):
            self._raw.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _LINGER_RST)
        self._finish(CLOSE_ABNORMAL, "connection reset")

    def pause(self) -> None:
        """Stop reading (what arrives waits in the kernel), as when the network is gone."""
        if self._read_watcher is not None and not self.paused:
            self.paused = True
            self._read_watcher.stop()

    def resume(self) -> None:
        if self._read_watcher is not None and self.paused and not self.closed:
            self.paused = False
            self._read_watcher.start(self._on_readable)

    def detach(self) -> Any:
        """Give up the connection without closing its socket (no FIN, no callback): the
        caller holds the returned socket and closes it later."""
        sock = self._gsock
        if self._write_watcher is not None:
            self._write_watcher.stop()
            self._write_watcher.close()
            self._write_watcher = None
        self._out = b""
        self._gsock = _Detached()
        self._finish(CLOSE_ABNORMAL, "given up", notify=False)
        return sock

    def _send_message(self, opcode: int, data: bytes, fragment: int) -> None:
        compressed = False
        if self._deflater is not None:
            data = self._deflater.compress(data) + self._deflater.flush(zlib.Z_SYNC_FLUSH)
            data = data[:-4] if data.endswith(DEFLATE_TAIL) else data
            if self._reset_deflater:
                self._deflater = zlib.compressobj(6, zlib.DEFLATED, -CLIENT_WBITS, CLIENT_MEMLEVEL)
            compressed = True
        if fragment <= 0 or len(data) <= fragment:
            self._send_frame(opcode, data, rsv1=compressed)
            return
        chunks = [data[i : i + fragment] for i in range(0, len(data), fragment)]
        last = len(chunks) - 1
        for i, chunk in enumerate(chunks):
            self._send_frame(
                opcode if i == 0 else OP_CONT, chunk, fin=i == last, rsv1=compressed and i == 0
            )

    def _send_frame(
        self, opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False
    ) -> None:
        if self.closed:
            raise WsClosedError(self.close_code or CLOSE_ABNORMAL, self.close_reason)
        frame = encode_frame(opcode, payload, fin=fin, rsv1=rsv1)
        if self._out:
            self._out += frame
            return
        try:
            sent = self._raw.send(frame)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._finish(CLOSE_ABNORMAL, str(exc))
            raise WsClosedError(CLOSE_ABNORMAL, str(exc)) from exc
        if sent < len(frame):
            self._out = frame[sent:]
            self._write_watcher = gevent.get_hub().loop.io(self._fd, 2)
            self._write_watcher.start(self._on_writable)

    def _on_writable(self) -> None:
        try:
            sent = self._raw.send(self._out)
        except BlockingIOError:
            return
        except OSError as exc:
            self._finish(CLOSE_ABNORMAL, str(exc))
            return
        self._out = self._out[sent:]
        if not self._out and self._write_watcher is not None:
            self._write_watcher.stop()
            self._write_watcher.close()
            self._write_watcher = None
            if self.closed:
                self._release()

    # --- receiving (hub callbacks) --------------------------------------------------------
    def _on_readable(self) -> None:
        try:
            data = self._raw.recv(262144)
        except BlockingIOError:
            return
        except OSError as exc:
            self._finish(CLOSE_ABNORMAL, str(exc))
            return
        if not data:
            self._finish(CLOSE_ABNORMAL, "connection closed without a close frame")
            return
        self._feed(data)

    def _fail(self, code: int, reason: str) -> None:
        if not self._close_sent and not self.closed:
            self._close_sent = True
            with contextlib.suppress(WsClosedError):
                self._send_frame(OP_CLOSE, code.to_bytes(2, "big") + reason.encode()[:120])
        self._finish(code, reason)

    def _finish(self, code: int, reason: str, *, notify: bool = True) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self.close_reason = reason
        if self._read_watcher is not None:
            self._read_watcher.stop()
            self._read_watcher.close()
            self._read_watcher = None
        # A close frame still queued gets flushed first, unless the socket is gone.
        if not self._out or code == CLOSE_ABNORMAL:
            self._release()
        if notify:
            try:
                self._on_close(code, reason)
            except Exception:  # a faulty callback must not take the hub down
                gevent.get_hub().handle_error(self, *sys.exc_info())

    def _release(self) -> None:
        if self._write_watcher is not None:
            self._write_watcher.stop()
            self._write_watcher.close()
            self._write_watcher = None
        self._out = b""
        self._gsock.close()

    # --- blocking helpers (without callbacks) -------------------------------------------
    def _queue_message(self, is_text: bool, payload: bytes) -> None:
        if self._inbox is not None:
            self._inbox.put((is_text, payload))

    def _queue_close(self, code: int, reason: str) -> None:
        if self._inbox is not None:
            self._inbox.put(WsClosedError(code, reason))

    def recv(self, timeout: float | None = None) -> tuple[bool, bytes]:
        """The next message ``(is_text, payload)``; raises WsClosedError once closed,
        ``gevent.queue.Empty`` after ``timeout`` seconds."""
        if self._inbox is None:
            raise WsError("recv() needs start() without callbacks")
        item = self._inbox.get(timeout=timeout)
        if isinstance(item, WsClosedError):
            self._inbox.put(item)  # later calls see the close too
            raise item
        is_text, payload = item
        return bool(is_text), bytes(payload)
