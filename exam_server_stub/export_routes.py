"""The national jury's export of every stored answer, streamed as NDJSON.

What a certifier reconciles the tablets' ledgers of acknowledged answers against, and what a
jury reads after an incident: every answer the server holds, every change, in storage order,
in one streamed call (pages read off the event loop), never 12,000 calls.
"""

from __future__ import annotations

import asyncio
import sqlite3

import orjson
from aiohttp import web

from vigie.protocol import API_PREFIX, ErrorCode
from vigie.wire import http as w

from . import auth, queries, store
from .api import INT_SCHEMA, Api, Caller, Param, query_int
from .keys import SETTINGS

routes = Api()
PAGE = 5000
NDJSON = "application/x-ndjson"
SINCE = Param("since", "only answers stored after this seq (resume a broken export)", INT_SCHEMA)  # fmt: skip


@routes.route(
    "GET", f"{API_PREFIX}/jury/answers/export", summary="Every stored answer, as NDJSON",
    tag="jury", caller=Caller.NATIONAL, ok=NDJSON, params=(SINCE,),
    errors=(ErrorCode.INVALID_REQUEST,),
    description="One AnswerRecord (docs/wire.md) per line, every change of every answer, in"
    " storage order (seq). Streamed: a broken download resumes with since=<last seq>.",
)  # fmt: skip
async def export(request: web.Request) -> web.StreamResponse:
    auth.national(request)
    since = query_int(request, "since", default=0)
    resp = web.StreamResponse(headers={"Content-Type": NDJSON})
    await resp.prepare(request)
    conn = store.connect(request.app[SETTINGS].db_path, readonly=True)
    try:
        while True:
            rows = await asyncio.to_thread(queries.answers_after, conn, since, PAGE)
            if not rows:
                break
            await resp.write(b"".join(_line(r) for r in rows))
            since = rows[-1]["seq"]
    finally:
        conn.close()
    await resp.write_eof()
    return resp


def _line(r: sqlite3.Row) -> bytes:
    rec = w.AnswerRecord(
        seq=r["seq"],
        candidate_id=r["candidate_id"],
        centre=r["centre"],
        unit_id=r["unit_id"],
        question_id=r["question_id"],
        action_id=r["action_id"],
        answer=orjson.loads(r["answer"]),
        final=bool(r["final"]),
        client_ts=r["client_ts"],
        server_ts=r["server_ts"],
    )
    return w.encoder.encode(rec) + b"\n"
