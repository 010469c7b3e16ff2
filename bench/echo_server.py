"""A bare aiohttp websocket server that answers each heartbeat: the baseline.

It does the least a heartbeat server can do (parse, reply with the sequence
number and its time), so that the vigie exam server's cost per heartbeat and per
connection can be read as a ratio against it, measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import orjson
from aiohttp import WSMsgType, web


async def ws_handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=request.app["compress"], autoping=True)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is WSMsgType.TEXT:
            hb = orjson.loads(msg.data)
            await ws.send_str(
                orjson.dumps(
                    {
                        "type": "hb_ack",
                        "seq": hb.get("seq"),
                        "server_ts": time.time(),
                        "instructions": [],
                    }
                ).decode()
            )
    return ws


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--compress", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a pinned dependency
        pass
    app = web.Application()
    app["compress"] = args.compress
    app.router.add_get("/ws", ws_handler)

    async def healthz(_r: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=4096)


if __name__ == "__main__":
    main()
