"""The one error classification of a tablet.

Every refusal a tablet meets (an HTTP call, the websocket upgrade, a network error) is
turned into a :class:`~simulator.settings.TabletFailure` here, with two answers:

- its :class:`~simulator.settings.FailureKind`, what Locust's statistics and the
  certifier see (``connection_cap``, ``http_5xx``, ``timeout``, ...);
- its :class:`Verdict`, what the tablet does next: retry with backoff, log in again,
  give up on this request, or report a fleet bug and never retry it.
"""

from __future__ import annotations

import time
from enum import Enum

import gevent
import msgspec
from geventhttpclient.response import HTTPConnectionClosed

from simulator.settings import FailureKind, TabletFailure
from vigie.protocol import ErrorCode
from vigie.wire.http import ErrorResponse

from .backoff import parse_retry_after

#: Locust ``request_type`` of what a tablet reports.
HTTP = "HTTP"
WS = "WS"

#: What a network call can raise when the connection goes: a server killed mid-answer
#: closes the keep-alive socket under geventhttpclient's parser (HTTPConnectionClosed).
NETWORK_ERRORS = (OSError, gevent.Timeout, HTTPConnectionClosed)

_error_decoder = msgspec.json.Decoder(ErrorResponse)

#: Refusals that mean "the token is no good any more": log in again, then retry.
_RELOGIN = frozenset({ErrorCode.UNAUTHENTICATED, ErrorCode.TOKEN_EXPIRED})
#: Refusals that retrying can never fix and that a correct fleet never meets: a bug in
#: the fleet (or the roster), reported, never retried.
_BUGS = frozenset({ErrorCode.ACTION_ID_REUSED, ErrorCode.BAD_CREDENTIALS})


class Verdict(Enum):
    RETRY = "retry"  # network trouble, 5xx, 503 with Retry-After: back off, try again
    RELOGIN = "relogin"  # 401 unauthenticated / token_expired
    REFUSED = "refused"  # any other 4xx: this request will never succeed, drop it
    BUG = "bug"  # 409 action_id_reused, bad_credentials: report, never retry


class HttpFailure(TabletFailure):
    """A refused HTTP call (or websocket upgrade): status, machine-readable code, and the
    server's ``Retry-After`` in seconds (503 and 429 only)."""

    def __init__(
        self,
        kind: FailureKind,
        detail: str,
        status: int,
        code: str | None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(kind, detail)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class Expected(Exception):
    """An expected refusal (``409 unit_not_launched`` before the launch, ...): not a
    failure; the caller waits and tries again."""

    def __init__(self, code: str | None, retry_after: float | None = None) -> None:
        super().__init__(code or "")
        self.code = code
        self.retry_after = retry_after


class Stopped(Exception):
    """The tablet is shutting down: a retry loop gave up without a result."""


def error_code(body: bytes) -> str | None:
    """The ``error.code`` of an error body; None when it is not the documented JSON."""
    try:
        return _error_decoder.decode(body).error.code
    except msgspec.DecodeError:
        return None


def failure_kind(status: int, code: str | None) -> FailureKind:
    if code == ErrorCode.CONNECTION_CAP:
        return FailureKind.CONNECTION_CAP
    if code == ErrorCode.ACTION_ID_REUSED:
        return FailureKind.PROTOCOL  # the fleet reused an id for another request: its bug
    if status >= 500:
        return FailureKind.HTTP_5XX
    return FailureKind.HTTP_4XX


def http_failure(what: str, status: int, headers: dict[str, str], body: bytes) -> HttpFailure:
    """The failure for a refused call; ``headers`` have lower-case names."""
    code = error_code(body)
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), time.time())
    return HttpFailure(
        failure_kind(status, code), f"{what}: HTTP {status} {code}", status, code, retry_after
    )


def network_failure(what: str, exc: BaseException) -> TabletFailure:
    kind = FailureKind.TIMEOUT if isinstance(exc, (TimeoutError, gevent.Timeout)) else None
    return TabletFailure(kind or FailureKind.REFUSED, f"{what}: {exc!r}")


def verdict(exc: TabletFailure) -> Verdict:
    if not isinstance(exc, HttpFailure):
        return Verdict.RETRY  # network error, timeout, garbled answer
    if exc.code in _RELOGIN:
        return Verdict.RELOGIN
    if exc.code in _BUGS:
        return Verdict.BUG
    if exc.status >= 500 or exc.status == 429:
        return Verdict.RETRY
    return Verdict.REFUSED


def retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After carried by a failure (None for most)."""
    return exc.retry_after if isinstance(exc, (HttpFailure, Expected)) else None
