"""The opening handshake of a client websocket (RFC 6455 section 4, RFC 7692 offer).

Blocks the calling greenlet (at most ``timeout`` per step); what follows the handshake is
:class:`simulator.wsclient.WsConnection`'s, driven from the gevent hub.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket as _stdsocket
from typing import Any

import gevent.socket

from simulator.faults.addresses import bind_source
from simulator.wsframe import WsError, WsHandshakeError

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#: What Chromium's WebView offers: context takeover both ways, a window size we may choose.
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
MAX_HEAD_BYTES = 16 * 1024

Deflate = dict[str, str | None]


def upgrade(
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    deflate: bool,
    timeout: float,
    source: str | None = None,
) -> tuple[Any, bytes, Deflate | None]:
    """Connect (from ``source`` when given, an IPv4 address) and upgrade: the gevent
    socket, the bytes read past the answer's head, and the permessage-deflate parameters
    the server accepted (None: declined or not offered).

    Raises :class:`WsHandshakeError` for a non-101 answer, ``OSError`` (including
    ``ConnectionRefusedError`` and ``TimeoutError``) for network failures.
    """
    sock = _open(host, port, timeout, source)
    try:
        sock.setsockopt(_stdsocket.IPPROTO_TCP, _stdsocket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if deflate:
            lines.append(f"Sec-WebSocket-Extensions: {DEFLATE_OFFER}")
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, resp_headers, rest = _read_head(sock)
        if status != 101:
            raise WsHandshakeError(status, resp_headers, _read_body(sock, resp_headers, rest))
        expected = base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode()
        if resp_headers.get("sec-websocket-accept") != expected:
            raise WsError("bad Sec-WebSocket-Accept from server")
        params = _parse_extensions(resp_headers.get("sec-websocket-extensions", ""))
        if params is not None and not deflate:
            raise WsError("server enabled permessage-deflate that was not offered")
        sock.settimeout(None)
        return sock, rest, params
    except BaseException:
        sock.close()
        raise


def _open(host: str, port: int, timeout: float, source: str | None) -> Any:
    if source is None:
        return gevent.socket.create_connection((host, port), timeout=timeout)
    sock = gevent.socket.socket(_stdsocket.AF_INET, _stdsocket.SOCK_STREAM)
    try:
        bind_source(sock, source)
        sock.settimeout(timeout)
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _parse_extensions(value: str) -> dict[str, str | None] | None:
    """The permessage-deflate parameters the server accepted, or None if it declined."""
    for ext in value.split(","):
        parts = [p.strip() for p in ext.split(";")]
        if parts[0].lower() != "permessage-deflate":
            continue
        params: dict[str, str | None] = {}
        for p in parts[1:]:
            if not p:
                continue
            name, _, val = p.partition("=")
            params[name.strip().lower()] = val.strip().strip('"') or None
        return params
    return None


def _read_head(sock: Any) -> tuple[int, dict[str, str], bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionResetError("connection closed during the websocket handshake")
        buf += chunk
        if len(buf) > MAX_HEAD_BYTES:
            raise WsError("websocket handshake answer too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise WsError(f"bad HTTP status line: {status_line!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


def _read_body(sock: Any, headers: dict[str, str], rest: bytes) -> bytes:
    """The (small) body of a refused upgrade, e.g. the JSON error of a 503."""
    try:
        length = min(int(headers.get("content-length", "0")), 64 * 1024)
    except ValueError:
        return rest
    try:
        while len(rest) < length:
            chunk = sock.recv(length - len(rest))
            if not chunk:
                break
            rest += chunk
    except OSError:
        pass
    return rest[:length]
