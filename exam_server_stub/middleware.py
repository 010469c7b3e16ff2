"""Middlewares: metrics per route template, the JSON error shape, fault-injection knobs, fraud."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sqlite3
import time

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from vigie.protocol import API_PREFIX, AuditKind, ErrorCode
from vigie.wire.metrics import FaultKind

from . import queries
from .errors import ApiError
from .keys import EXAM, FAULTS, METRICS, SETTINGS, SIGNER
from .tokens import CANDIDATE_ROLE

log = logging.getLogger(__name__)
WS_PATH = f"{API_PREFIX}/ws"
OPERATOR_PREFIX = f"{API_PREFIX}/operator/"  # fault control itself is never faulted

# URLs a candidate has no business typing: answer keys, admin pages, path traversal.
_FRAUD = re.compile(
    r"correct|corrig|answer|reponse|réponse|solution|admin|\.\.|%2e%2e|\.php|grille|/key|secret|"
    r"\.env|/etc/|wp-|phpmyadmin|login\.|config",
    re.IGNORECASE,
)


def looks_like_fraud(raw_path: str) -> bool:
    return _FRAUD.search(raw_path) is not None


def error_response(err: ApiError) -> web.Response:
    body = orjson.dumps({"error": {"code": err.code.value, "message": err.message}})
    return web.Response(
        body=body, status=err.status, content_type="application/json", headers=err.headers
    )


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    m = request.app[METRICS]
    route = _route(request)
    start = time.perf_counter()
    resp = await handler(request)
    if route != WS_PATH:  # a websocket "request" lasts as long as the socket
        m.http_duration.labels(route, request.method).observe(time.perf_counter() - start)
    m.http_requests.labels(route, request.method, str(resp.status)).inc()
    return resp


@web.middleware
async def error_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        failure = err
    except web.HTTPRequestEntityTooLarge:
        failure = ApiError(ErrorCode.BODY_TOO_LARGE, "The body is over 64 KiB.")
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        failure = ApiError(
            ErrorCode.METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed here (allowed: {allowed}).",
            headers={"Allow": allowed},  # RFC 9110 15.5.6
        )
    except web.HTTPNotFound:
        await _maybe_fraud(request)
        failure = ApiError(ErrorCode.NOT_FOUND, f"There is nothing at {request.path}.")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = ErrorCode.NOT_FOUND if exc.status == 404 else ErrorCode.INVALID_REQUEST
        failure = ApiError(code, exc.reason or "Bad request.")
        failure.status = exc.status
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        body = orjson.dumps({"error": {"code": "internal", "message": "Internal server error."}})
        return web.Response(body=body, status=500, content_type="application/json")
    request.app[METRICS].http_errors.labels(_route(request), failure.code.value).inc()
    return error_response(failure)


@web.middleware
async def fault_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The knobs that reproduce real failures, on the API only (never /metrics or /healthz)."""
    settings, faults = request.app[SETTINGS], request.app[FAULTS]
    if request.path.startswith(API_PREFIX) and not request.path.startswith(OPERATOR_PREFIX):
        m = request.app[METRICS]
        latency_ms, error_rate = faults.latency_ms(), faults.error_rate()
        if latency_ms > 0:
            m.injected_faults.labels(FaultKind.LATENCY).inc()
            await asyncio.sleep(latency_ms / 1000)
        if settings.request_cpu_ms > 0:
            _burn(settings.request_cpu_ms / 1000)
        if error_rate > 0 and random.random() < error_rate:
            m.injected_faults.labels(FaultKind.ERROR).inc()
            raise ApiError(
                ErrorCode.INJECTED_FAULT,
                "Injected fault (error-rate knob).",
                retry_after=settings.retry_after_s,
            )
    return await handler(request)


async def _maybe_fraud(request: web.Request) -> None:
    """A candidate's token on a made-up URL that smells of cheating becomes a fraud alert."""
    raw = request.raw_path
    header = request.headers.get("Authorization", "")
    if header[:7].lower() != "bearer " or not looks_like_fraud(raw):
        return
    try:
        cl = request.app[SIGNER].verify(header[7:].strip())
    except ApiError:
        return
    exam = request.app[EXAM]
    c = exam.cands.get(cl.sub) if cl.role == CANDIDATE_ROLE else None
    if c is None:
        return
    now = exam.clock()
    ua = request.headers.get("User-Agent", "")[:300]
    method, path = request.method, raw[:1000]

    def job(conn: sqlite3.Connection) -> None:
        queries.insert_fraud_alert(conn, now, c.id, c.centre, method, path, ua)
        queries.audit(
            conn, now, AuditKind.FRAUD, "candidate", {"method": method, "path": path, "user_agent": ua},
            candidate_id=c.id, centre=c.centre,
        )  # fmt: skip

    await exam.write(job)
    request.app[METRICS].fraud_alerts.inc()
    log.warning("fraud alert: %s (%s) %s %s", c.id, c.centre, method, path)


def _burn(seconds: float) -> None:
    """Hold the event loop, on purpose: the request_cpu_ms knob models a server whose every
    call costs CPU (a slow query, a synchronous template), which saturates its one loop."""
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass
