"""The tablet's one error classification: what Locust sees, what the tablet does next."""

from __future__ import annotations

import gevent
import pytest

from simulator.settings import FailureKind, TabletFailure
from simulator.tablet.failures import (
    HttpFailure,
    Verdict,
    error_code,
    http_failure,
    network_failure,
    retry_after,
    verdict,
)
from vigie.protocol import ErrorCode
from vigie.wire.http import ErrorBody, ErrorResponse, encoder


def body(code: str) -> bytes:
    return encoder.encode(ErrorResponse(error=ErrorBody(code=code, message="m")))


@pytest.mark.parametrize(
    ("status", "code", "kind", "what"),
    [
        (503, ErrorCode.CONNECTION_CAP, FailureKind.CONNECTION_CAP, Verdict.RETRY),
        (503, ErrorCode.INJECTED_FAULT, FailureKind.HTTP_5XX, Verdict.RETRY),
        (500, "internal", FailureKind.HTTP_5XX, Verdict.RETRY),
        (401, ErrorCode.UNAUTHENTICATED, FailureKind.HTTP_4XX, Verdict.RELOGIN),
        (401, ErrorCode.TOKEN_EXPIRED, FailureKind.HTTP_4XX, Verdict.RELOGIN),
        (401, ErrorCode.BAD_CREDENTIALS, FailureKind.HTTP_4XX, Verdict.BUG),
        (409, ErrorCode.ACTION_ID_REUSED, FailureKind.PROTOCOL, Verdict.BUG),
        (409, ErrorCode.UNIT_CLOSED, FailureKind.HTTP_4XX, Verdict.REFUSED),
        (409, ErrorCode.UNIT_FINISHED, FailureKind.HTTP_4XX, Verdict.REFUSED),
        (422, ErrorCode.INVALID_ANSWER, FailureKind.HTTP_4XX, Verdict.REFUSED),
        (404, ErrorCode.UNKNOWN_UNIT, FailureKind.HTTP_4XX, Verdict.REFUSED),
    ],
)
def test_refusals_are_classified_once(
    status: int, code: str, kind: FailureKind, what: Verdict
) -> None:
    failure = http_failure("POST /x", status, {}, body(code))
    assert (failure.kind, failure.code, failure.status) == (kind, code, status)
    assert verdict(failure) is what


def test_a_body_that_is_not_the_documented_error_has_no_code() -> None:
    for raw in (b"", b"<html>502</html>", b'{"error": "x"}', b"[]"):
        assert error_code(raw) is None
    failure = http_failure("GET /x", 502, {}, b"<html>bad gateway</html>")
    assert failure.kind is FailureKind.HTTP_5XX and verdict(failure) is Verdict.RETRY


def test_retry_after_is_read_on_503_and_429_only() -> None:
    headers = {"retry-after": "7"}
    assert http_failure("x", 503, headers, body(ErrorCode.CONNECTION_CAP)).retry_after == 7.0
    assert http_failure("x", 429, headers, b"").retry_after == 7.0
    assert http_failure("x", 409, headers, body(ErrorCode.UNIT_CLOSED)).retry_after is None
    assert http_failure("x", 503, {}, b"").retry_after is None
    assert retry_after(http_failure("x", 503, headers, b"")) == 7.0
    assert retry_after(ValueError()) is None


def test_network_errors_retry() -> None:
    refused = network_failure("GET /x", ConnectionRefusedError())
    timeout = network_failure("GET /x", gevent.Timeout(1))
    assert refused.kind is FailureKind.REFUSED and timeout.kind is FailureKind.TIMEOUT
    assert network_failure("x", TimeoutError()).kind is FailureKind.TIMEOUT
    for failure in (refused, timeout, TabletFailure(FailureKind.PROTOCOL, "garbled")):
        assert not isinstance(failure, HttpFailure)
        assert verdict(failure) is Verdict.RETRY


def test_a_connection_closed_mid_answer_is_a_network_failure_to_retry() -> None:
    # A server killed (kill -9) while a keep-alive answer is on its way: the pool's parser
    # raises this, and the tablet must retry, not die.
    from geventhttpclient.response import HTTPConnectionClosed

    from simulator.tablet.failures import NETWORK_ERRORS

    exc = HTTPConnectionClosed("connection closed.")
    assert isinstance(exc, NETWORK_ERRORS)
    failure = network_failure("POST /answers", exc)
    assert failure.kind is FailureKind.REFUSED and verdict(failure) is Verdict.RETRY
