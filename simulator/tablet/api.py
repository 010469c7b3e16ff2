"""A tablet's HTTP calls: typed bodies in and out, each call reported to Locust.

Requests are encoded from :mod:`vigie.wire.http` Structs and responses decoded into
them; a 2xx body that does not decode is a ``protocol`` failure. A refusal is raised as
an :class:`~.failures.HttpFailure` (classified once, in :mod:`.failures`), or as
:class:`~.failures.Expected` for the codes the caller expects (not a failure).

HTTP goes through one ``geventhttpclient`` keep-alive pool per process and target: a
tablet's calls are rare (an answer a minute or so), so thousands of tablets share a few
hundred sockets and the file descriptors go to the websockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec
from geventhttpclient import HTTPClient

from simulator import record
from simulator.settings import FailureKind, FleetSettings, TabletFailure, TabletIdentity
from vigie.protocol import API_PREFIX, ErrorCode
from vigie.wire.http import (
    AnswerIn,
    AnswerResult,
    Finish,
    FinishResult,
    Login,
    LoginOk,
    QuestionDoc,
    UnitKey,
)
from vigie.wire.http import encoder as http_encoder

from .backoff import Pacer
from .failures import (
    HTTP,
    NETWORK_ERRORS,
    Expected,
    Stopped,
    Verdict,
    http_failure,
    network_failure,
    retry_after,
    verdict,
)

T = TypeVar("T")

#: (request_type, name, response_time_ms, response_length, exception or None)
Reporter = Callable[[str, str, float, int, BaseException | None], None]

HTTP_POOL_SIZE = 256
SHA256_HEADER = "x-vigie-sha256"

_pools: dict[tuple[str, int, float], HTTPClient] = {}
_login_ok = msgspec.json.Decoder(LoginOk)
_unit_key = msgspec.json.Decoder(UnitKey)
_question = msgspec.json.Decoder(QuestionDoc)
_answer_result = msgspec.json.Decoder(AnswerResult)
_finish_result = msgspec.json.Decoder(FinishResult)

_NOT_LAUNCHED = frozenset({ErrorCode.UNIT_NOT_LAUNCHED})
_LOCKED_OR_PAUSED = frozenset({ErrorCode.QUESTION_LOCKED, ErrorCode.CENTRE_PAUSED})
_PAUSED = frozenset({ErrorCode.CENTRE_PAUSED})


def http_pool(host: str, port: int, timeout: float) -> HTTPClient:
    key = (host, port, timeout)
    pool = _pools.get(key)
    if pool is None:
        pool = _pools[key] = HTTPClient(
            host,
            port,
            concurrency=HTTP_POOL_SIZE,
            connection_timeout=timeout,
            network_timeout=timeout,
            headers={"User-Agent": "vigie-tablet/1", "Content-Type": "application/json"},
        )
    return pool


@dataclass(slots=True)
class HttpResult:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


class TabletApi:
    """The candidate HTTP API as one tablet calls it; holds the token."""

    __slots__ = (
        "cfg",
        "host",
        "http",
        "identity",
        "on_login",
        "pacer",
        "port",
        "report",
        "stopping",
        "token",
    )

    def __init__(
        self,
        cfg: FleetSettings,
        identity: TabletIdentity,
        report: Reporter,
        pacer: Pacer,
        stopping: Callable[[], bool],
        http: Any = None,
    ) -> None:
        self.cfg = cfg
        self.identity = identity
        self.report = report
        self.pacer = pacer
        self.stopping = stopping
        url = urlsplit(cfg.target)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        #: the process's keep-alive pool, or a stand-in with the same ``request``
        self.http = http or http_pool(self.host, self.port, cfg.request_timeout_s)
        self.token: str | None = None
        #: told of every successful login (units, heartbeat interval)
        self.on_login: Callable[[LoginOk], object] = lambda doc: None

    # --- one call --------------------------------------------------------------------------
    def _exchange(
        self, method: str, path: str, name: str, body: bytes, expected: frozenset[ErrorCode]
    ) -> tuple[HttpResult, float]:
        """Send, and read the answer: a 2xx comes back (with the time it took) for the
        caller to report; a refusal or a network error is reported and raised here."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        what = f"{method} {path}"
        start = time.perf_counter()
        try:
            resp = self.http.request(method, API_PREFIX + path, body=body, headers=headers)
            try:
                result = HttpResult(
                    resp.status_code, {k.lower(): v for k, v in resp.items()}, bytes(resp.read())
                )
            finally:
                resp.release()
        except NETWORK_ERRORS as exc:
            failure = network_failure(what, exc)
            self.report(HTTP, name, (time.perf_counter() - start) * 1000, 0, failure)
            raise failure from exc
        elapsed = (time.perf_counter() - start) * 1000
        if result.status < 400:
            return result, elapsed
        refusal = http_failure(what, result.status, result.headers, result.body)
        if refusal.code in expected:
            self.report(HTTP, name, elapsed, len(result.body), None)
            raise Expected(refusal.code, refusal.retry_after)
        self.report(HTTP, name, elapsed, len(result.body), refusal)
        raise refusal

    def request(
        self,
        method: str,
        path: str,
        name: str,
        body: bytes = b"",
        expected: frozenset[ErrorCode] = frozenset(),
    ) -> HttpResult:
        """One HTTP operation, reported once under ``name``; raises a TabletFailure, or
        Expected for a refusal whose code is in ``expected`` (reported as a success)."""
        result, elapsed = self._exchange(method, path, name, body, expected)
        self.report(HTTP, name, elapsed, len(result.body), None)
        return result

    def call(
        self,
        method: str,
        path: str,
        name: str,
        decoder: msgspec.json.Decoder[T],
        body: msgspec.Struct | None = None,
        expected: frozenset[ErrorCode] = frozenset(),
    ) -> T:
        """:meth:`request` with a typed body each way; a 2xx whose body does not decode is
        reported as a ``protocol`` failure."""
        payload = http_encoder.encode(body) if body is not None else b""
        result, elapsed = self._exchange(method, path, name, payload, expected)
        try:
            doc = decoder.decode(result.body)
        except msgspec.DecodeError as exc:
            failure = TabletFailure(FailureKind.PROTOCOL, f"{method} {path}: {exc}")
            self.report(HTTP, name, elapsed, len(result.body), failure)
            raise failure from exc
        self.report(HTTP, name, elapsed, len(result.body), None)
        return doc

    # --- the candidate routes --------------------------------------------------------------
    def login(self) -> LoginOk:
        """Log in, retrying with backoff; ``bad_credentials`` (a roster that does not match
        the server) is raised at once."""
        ident = self.identity
        body = Login(
            candidate_id=ident.candidate_id, centre=ident.centre, access_code=ident.access_code
        )
        for attempt in self.pacer.attempts(stop=self.stopping):
            self.token = None
            try:
                doc = self.call("POST", "/login", record.OP_LOGIN, _login_ok, body)
            except TabletFailure as exc:
                if verdict(exc) is Verdict.BUG:
                    raise
                attempt.retry_after = retry_after(exc)
                continue
            self.token = doc.token
            self.on_login(doc)
            return doc
        raise Stopped()

    def package(self, unit_id: str) -> tuple[bytes, str | None]:
        """The encrypted package and the digest the server announces for it."""
        res = self.request("GET", f"/units/{unit_id}/package", record.OP_PACKAGE)
        return res.body, res.headers.get(SHA256_HEADER)

    def key(self, unit_id: str) -> UnitKey:
        """Raises Expected before the launch."""
        return self.call(
            "GET", f"/units/{unit_id}/key", record.OP_KEY, _unit_key, expected=_NOT_LAUNCHED
        )

    def question(self, unit_id: str, question_id: str) -> QuestionDoc:
        """A locked question in clear; raises Expected while locked or paused."""
        path = f"/units/{unit_id}/questions/{question_id}"
        return self.call("GET", path, record.OP_QUESTION, _question, expected=_LOCKED_OR_PAUSED)

    def answer(self, unit_id: str, body: AnswerIn) -> AnswerResult:
        """Raises Expected while the centre is paused."""
        path = f"/units/{unit_id}/answers"
        return self.call("POST", path, record.OP_ANSWER, _answer_result, body, expected=_PAUSED)

    def finish(self, unit_id: str, body: Finish) -> FinishResult:
        path = f"/units/{unit_id}/finish"
        return self.call("POST", path, record.OP_FINISH, _finish_result, body)
