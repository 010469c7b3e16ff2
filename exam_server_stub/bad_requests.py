"""Requests aiohttp cannot parse (a NUL in a header, a broken request line) get the JSON error.

aiohttp answers those before any middleware runs, with a plain-text body that echoes the
offending bytes back, and logs each one at ERROR with a traceback. Bad input is the
client's problem, not the server's: it gets the documented body and an INFO line. aiohttp
offers no hook for this (``web.run_app`` builds its ``RequestHandler`` itself), so the
handler's method is wrapped once, for 4xx answers only; a 500 keeps aiohttp's behaviour.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web, web_protocol

from vigie.protocol import ErrorCode

log = logging.getLogger(__name__)
_original = web_protocol.RequestHandler.handle_error


def _handle_error(
    self: web_protocol.RequestHandler,
    request: Any,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    if not 400 <= status < 500:
        return _original(self, request, status, exc, message)
    # The reason is aiohttp's, never the bytes received: they may hold anything.
    reason = type(exc).__name__ if exc is not None else "bad request"
    log.info("unparseable request from %s: %s", getattr(request, "remote", None), reason)
    body = orjson.dumps(
        {
            "error": {
                "code": ErrorCode.MALFORMED_REQUEST.value,
                "message": f"The HTTP request could not be parsed ({reason}).",
            }
        }
    )
    resp = web.Response(status=status, body=body, content_type="application/json")
    resp.force_close()
    return resp


def install() -> None:
    """Idempotent: every app factory call may ask."""
    web_protocol.RequestHandler.handle_error = _handle_error  # type: ignore[method-assign]
