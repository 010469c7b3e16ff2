"""What serves operators rather than exams: health, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vigie.wire.http import Health

from .api import Api, Caller, respond
from .keys import METRICS
from .openapi import spec

routes = Api()
TAG = "service"


@routes.route(
    "GET", "/healthz", summary="Liveness", tag=TAG, caller=Caller.ANYONE, ok=Health,
    description="Never subject to the fault knobs.",
)  # fmt: skip
async def healthz(request: web.Request) -> web.Response:
    return respond(Health(status="ok"))


@routes.route(
    "GET", "/metrics", summary="Prometheus metrics (text exposition format)", tag=TAG,
    caller=Caller.ANYONE, ok="text/plain",
)  # fmt: skip
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.route(
    "GET", "/openapi.json", summary="This document", tag=TAG, caller=Caller.ANYONE,
    ok="application/json",
)  # fmt: skip
async def openapi(request: web.Request) -> web.Response:
    # `servers` names where it is served from, whatever the port or host.
    doc = spec(f"{request.scheme}://{request.host}")
    return web.Response(body=doc, content_type="application/json")
