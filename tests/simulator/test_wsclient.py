"""The gevent websocket client against a real aiohttp server running in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Iterator
from pathlib import Path

import gevent
import gevent.queue
import orjson
import pytest

from simulator import wsclient

SERVER = textwrap.dedent(
    """
    import asyncio, sys, zlib
    from aiohttp import web, WSMsgType

    def raw_frame(opcode, payload, fin=True, rsv1=False):
        b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
        n = len(payload)
        if n < 126:
            head = bytes((b0, n))
        elif n < 65536:
            head = bytes((b0, 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((b0, 127)) + n.to_bytes(8, "big")
        return head + payload

    async def echo(request):
        ws = web.WebSocketResponse(compress=request.query.get("compress") == "1", autoping=False)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                if msg.data == "big":
                    await ws.send_str("x" * 100_000 + "end")
                elif msg.data.startswith("close:"):
                    await ws.close(code=int(msg.data[6:]), message=b"bye")
                elif msg.data == "ping":
                    await ws.ping(b"p1")
                elif msg.data == "drop":
                    request.transport.abort()
                elif msg.data == "frag":
                    # a fragmented text message with a ping between its fragments
                    request.transport.write(
                        raw_frame(1, b"hello ", fin=False) + raw_frame(9, b"mid")
                        + raw_frame(0, b"big ", fin=False) + raw_frame(0, b"world")
                    )
                elif msg.data == "masked":
                    request.transport.write(bytes((0x81, 0x84)) + b"\\x00" * 8)
                else:
                    await ws.send_str("echo:" + msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data[::-1])
            elif msg.type == WSMsgType.PONG:
                await ws.send_str("pong:" + msg.data.decode())
            elif msg.type == WSMsgType.CLOSE:
                await ws.close()
        return ws

    async def refuse(request):
        return web.json_response(
            {"error": {"code": "connection_cap", "message": "too many connections"}},
            status=503, headers={"Retry-After": "5"},
        )

    async def main():
        app = web.Application()
        app.router.add_get("/echo", echo)
        app.router.add_get("/refuse", refuse)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(120)  # bounded: the test kills us long before

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    script = Path(tmp_path_factory.mktemp("ws")) / "server.py"
    script.write_text(SERVER)
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, env={**os.environ}, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        yield int(line)
    finally:
        proc.kill()
        proc.wait(10)


def _open(port: int, compress: bool = False, deflate: bool = False) -> wsclient.WsConnection:
    path = "/echo?compress=1" if compress else "/echo"
    conn = wsclient.connect("127.0.0.1", port, path, deflate=deflate, timeout=5)
    conn.start()
    return conn


def test_mask_matches_the_rfc_definition() -> None:
    key = bytes((0x37, 0xFA, 0x21, 0x3D))
    for n in (0, 1, 3, 4, 5, 125, 126, 1000):
        data = os.urandom(n)
        expected = bytes(b ^ key[i % 4] for i, b in enumerate(data))
        assert wsclient.mask(data, key) == expected


def test_encode_frame_lengths_and_mask_bit() -> None:
    key = b"\x01\x02\x03\x04"
    small = wsclient.encode_frame(wsclient.OP_TEXT, b"hi", key=key)
    assert small[:2] == bytes((0x81, 0x82)) and small[2:6] == key
    medium = wsclient.encode_frame(wsclient.OP_BINARY, b"a" * 300, key=key)
    assert medium[1] == 0xFE and int.from_bytes(medium[2:4], "big") == 300
    large = wsclient.encode_frame(wsclient.OP_BINARY, b"a" * 70_000, key=key)
    assert large[1] == 0xFF and int.from_bytes(large[2:10], "big") == 70_000


def test_text_and_binary_round_trip(port: int) -> None:
    conn = _open(port)
    conn.send_text(orjson.dumps({"type": "hb", "seq": 1}))
    assert conn.recv(5) == (True, b'echo:{"type":"hb","seq":1}')
    conn.send_binary(b"\x00\x01\x02")
    assert conn.recv(5) == (False, b"\x02\x01\x00")
    conn.close()
    with pytest.raises(wsclient.WsClosedError) as err:
        conn.recv(5)
    assert err.value.code == 1000


def test_large_messages_use_extended_lengths(port: int) -> None:
    conn = _open(port)
    conn.send_text("big")
    is_text, payload = conn.recv(5)
    assert is_text and len(payload) == 100_003 and payload.endswith(b"end")
    conn.send_text("y" * 70_000)
    assert conn.recv(5)[1] == b"echo:" + b"y" * 70_000
    conn.close()


def test_client_fragments_are_reassembled_by_the_server(port: int) -> None:
    conn = _open(port)
    conn.send_text("a fragmented hello from the tablet", fragment=7)
    assert conn.recv(5)[1] == b"echo:a fragmented hello from the tablet"
    conn.close()


def test_server_fragments_with_interleaved_ping(port: int) -> None:
    conn = _open(port)
    conn.send_text("frag")
    assert conn.recv(5) == (True, b"hello big world")
    conn.close()


def test_answers_server_ping_with_pong(port: int) -> None:
    conn = _open(port)
    conn.send_text("ping")
    assert conn.recv(5)[1] == b"pong:p1"
    conn.close()


@pytest.mark.parametrize("code", [1001, 1008, 4001, 4002])
def test_server_close_codes_reach_the_client(port: int, code: int) -> None:
    conn = _open(port)
    closes: gevent.queue.Queue[tuple[int, str]] = gevent.queue.Queue()
    conn._on_close = lambda c, r: closes.put((c, r))
    conn.send_text(f"close:{code}")
    assert closes.get(timeout=5) == (code, "bye")
    assert conn.closed and conn.close_code == code
    with pytest.raises(wsclient.WsClosedError):
        conn.send_text("after close")


def test_dropped_socket_reports_1006(port: int) -> None:
    conn = _open(port)
    conn.send_text("drop")
    with pytest.raises(wsclient.WsClosedError) as err:
        conn.recv(5)
    assert err.value.code == wsclient.CLOSE_ABNORMAL


def test_masked_server_frame_is_a_protocol_error(port: int) -> None:
    conn = _open(port)
    conn.send_text("masked")
    with pytest.raises(wsclient.WsClosedError) as err:
        conn.recv(5)
    assert err.value.code == wsclient.CLOSE_PROTOCOL_ERROR


def test_refused_upgrade_carries_status_and_body(port: int) -> None:
    with pytest.raises(wsclient.WsHandshakeError) as err:
        wsclient.connect("127.0.0.1", port, "/refuse", timeout=5)
    assert err.value.status == 503
    assert err.value.headers["retry-after"] == "5"
    assert orjson.loads(err.value.body)["error"]["code"] == "connection_cap"


def test_refused_tcp_connect_raises_oserror() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    free = s.getsockname()[1]
    s.close()
    with pytest.raises(ConnectionRefusedError):
        wsclient.connect("127.0.0.1", free, "/echo", timeout=5)


def test_deflate_negotiated_and_both_directions_compressed(port: int) -> None:
    conn = _open(port, compress=True, deflate=True)
    assert conn.deflate
    sent: list[bytes] = []
    raw_send = conn._raw.send

    def spy(data: bytes) -> int:
        sent.append(bytes(data))
        return int(raw_send(data))

    conn._raw = type("Spy", (), {"send": staticmethod(spy), "recv": conn._raw.recv})()
    text = "la même question revient " * 40
    for _ in range(3):  # context takeover on both sides: every message must still inflate
        conn.send_text(text)
        assert conn.recv(5) == (True, ("echo:" + text).encode())
    # Our frames carry RSV1 and are much smaller than the text.
    assert all(frame[0] & 0x40 for frame in sent)
    assert len(sent[0]) < len(text.encode()) // 4
    conn.send_text("big")
    assert conn.recv(5)[1].endswith(b"end")
    conn.close()


def test_deflate_declined_by_server_stays_plain(port: int) -> None:
    conn = _open(port, compress=False, deflate=True)
    assert not conn.deflate
    conn.send_text("plain")
    assert conn.recv(5)[1] == b"echo:plain"
    conn.close()


def test_compressed_frame_without_negotiation_is_rejected() -> None:
    # A server that sets RSV1 without having agreed to deflate breaks the protocol.
    conn = wsclient.WsConnection.__new__(wsclient.WsConnection)
    wsclient.WsConnection.__init__(conn, _NullSocket(), b"", None)
    conn._inbox = gevent.queue.Queue()
    payload = zlib.compressobj(6, zlib.DEFLATED, -15).compress(b"x")
    conn._feed(bytes((0xC1, len(payload))) + payload)
    assert conn.closed and conn.close_code == wsclient.CLOSE_PROTOCOL_ERROR


class _NullSocket:
    """Enough of a gevent socket to drive the frame parser without a network."""

    class _Raw:
        def send(self, data: bytes) -> int:
            return len(data)

    _sock = _Raw()

    def fileno(self) -> int:
        return -1

    def close(self) -> None:
        pass
