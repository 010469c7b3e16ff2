"""A tablet's HTTP calls: typed bodies in and out, each call reported to Locust.

Requests are encoded from :mod:`vigie.wire.http` Structs and responses decoded into
them; a 2xx body that does not decode is a ``protocol`` failure. A refusal is raised as
an :class:`~.failures.HttpFailure` (classified once, in :mod:`.failures`), or as
:class:`~.failures.Expected` for the codes the caller expects (not a failure).

HTTP goes through one ``geventhttpclient`` keep-alive pool per process and target: a
tablet's calls are rare (an answer a minute or so), so thousands of tablets share a few
hundred sockets and the file descriptors go to the websockets. When the tablets send from
their centres' addresses (:mod:`simulator.faults.addresses`) there is one pool per centre,
bound to the centre's HTTP address, sized by the centre's share of the candidates, so
that a centre outage cuts its HTTP too.

A real tablet has its own connection; a call that waits here for one of the pool's is
held back by the generator, not by the server. So each pool's connections are counted
out by a semaphore, the wait is timed apart (:data:`HTTP_WAITS`, reported to the master)
and left out of the call's response time: what Locust sees is the server's answer, and
the certifier reads the waits to tell a generator that queued its own calls from a
platform that was slow (the 2025 national scale: answers queued behind 5,600 package
downloads sharing a worker's pool).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec
from gevent.lock import BoundedSemaphore
from geventhttpclient import HTTPClient
from geventhttpclient.connectionpool import ConnectionPool

from simulator import record
from simulator.faults import simulated
from simulator.faults.addresses import (
    bind_source,
    centre_number,
    connect_host,
    http_address,
    tablet_address,
)
from simulator.record import LatencyHistogram
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

#: keep-alive connections per process, shared by its tablets. Measured in the 2022 replay
#: on the 2-core machine: with 1,024 the launch's 9,800 key fetches reach the server at
#: once and wait there (key p50 2.8 s, answers p99 8.8 s, the server sharing the cores);
#: with 256 they wait here instead, timed apart (HTTP_WAITS). Either way the burst is more
#: than this machine serves in time; the wait is in every sample for the certifier.
HTTP_POOL_SIZE = 256
CENTRE_POOL_MIN = 4  # a small centre still gets a few keep-alive sockets
SHA256_HEADER = "x-vigie-sha256"

_pools: dict[tuple[str, int, float, str | None], tuple[HTTPClient, BoundedSemaphore]] = {}
#: every call's wait for a free pooled connection (ms), since the last report
HTTP_WAITS = LatencyHistogram()
_login_ok = msgspec.json.Decoder(LoginOk)
_unit_key = msgspec.json.Decoder(UnitKey)
_question = msgspec.json.Decoder(QuestionDoc)
_answer_result = msgspec.json.Decoder(AnswerResult)
_finish_result = msgspec.json.Decoder(FinishResult)

_NOT_LAUNCHED = frozenset({ErrorCode.UNIT_NOT_LAUNCHED})
_PAUSED = frozenset({ErrorCode.CENTRE_PAUSED, ErrorCode.CANDIDATE_PAUSED})
_LOCKED_OR_PAUSED = frozenset({ErrorCode.QUESTION_LOCKED, *_PAUSED})


class _BoundPool(ConnectionPool):
    """geventhttpclient's pool, its sockets bound to one source address before connecting
    (geventhttpclient has no source_address option)."""

    source: str | None = None

    def _create_tcp_socket(self, family: int, socktype: int, protocol: int) -> Any:
        sock = super()._create_tcp_socket(family, socktype, protocol)
        try:
            bind_source(sock, self.source)
        except BaseException:
            sock.close()
            raise
        return sock


def http_pool(
    host: str, port: int, timeout: float, source: str | None = None, size: int = HTTP_POOL_SIZE
) -> tuple[HTTPClient, BoundedSemaphore]:
    """The process's keep-alive pool to the target, one per source address, and the
    semaphore that counts its connections out."""
    key = (host, port, timeout, source)
    found = _pools.get(key)
    if found is None:
        pool = HTTPClient(
            host,
            port,
            concurrency=size,
            connection_timeout=timeout,
            network_timeout=timeout,
            disable_ipv6=source is not None,
            headers={"User-Agent": "vigie-tablet/1", "Content-Type": "application/json"},
        )
        if source is not None:
            bound = _BoundPool(
                host,
                port,
                host,
                port,
                size=size,
                disable_ipv6=True,
                connection_timeout=timeout,
                network_timeout=timeout,
            )
            bound.source = source
            pool._connection_pool = bound
        found = _pools[key] = (pool, BoundedSemaphore(size))
    return found


def centre_pool_size(cfg: FleetSettings, centre: str) -> int:
    """The centre's share of :data:`HTTP_POOL_SIZE`, by its candidates."""
    total = sum(n for _, n in cfg.centres) or 1
    share = dict(cfg.centres).get(centre, 0) / total
    return max(CENTRE_POOL_MIN, round(HTTP_POOL_SIZE * share))


def source_address(cfg: FleetSettings, identity: TabletIdentity) -> str | None:
    """Where the tablet's websocket sends from (None: wherever the kernel likes)."""
    if cfg.net_base is None:
        return None
    k = centre_number([c for c, _ in cfg.centres], identity.centre)
    return tablet_address(cfg.net_base, k, identity.candidate_id)


def _pool_for(
    cfg: FleetSettings, identity: TabletIdentity, host: str, port: int
) -> tuple[HTTPClient, BoundedSemaphore]:
    timeout = cfg.request_timeout_s
    if cfg.net_base is None:
        return http_pool(host, port, timeout)
    k = centre_number([c for c, _ in cfg.centres], identity.centre)
    source = http_address(cfg.net_base, k)
    return http_pool(
        connect_host(host), port, timeout, source, centre_pool_size(cfg, identity.centre)
    )


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
        "slots",
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
        #: the process's keep-alive pool and its semaphore, or a stand-in with the same
        #: ``request`` (and no semaphore)
        self.slots: BoundedSemaphore | None = None
        if http is None:
            http, self.slots = _pool_for(cfg, identity, self.host, self.port)
        self.http = http
        self.token: str | None = None
        #: told of every successful login (units, heartbeat interval)
        self.on_login: Callable[[LoginOk], object] = lambda doc: None

    @property
    def source(self) -> str | None:
        """The tablet's source address (computed: no memory per tablet)."""
        return source_address(self.cfg, self.identity)

    @property
    def connect_host(self) -> str:
        return connect_host(self.host) if self.cfg.net_base is not None else self.host

    def hold_while_cut(self, what: str) -> None:
        """In a simulated centre outage, wait for the network (at most the request
        timeout) and then fail as the real network would have: a timeout."""
        centre = self.identity.centre
        cut = simulated.outages and centre in simulated.outages
        if cut and not simulated.wait_restored(centre, self.cfg.request_timeout_s):
            raise TimeoutError(f"{what}: no network (simulated centre outage)")

    # --- one call --------------------------------------------------------------------------
    def _exchange(
        self, method: str, path: str, name: str, body: bytes, expected: frozenset[ErrorCode]
    ) -> tuple[HttpResult, float]:
        """Send, and read the answer: a 2xx comes back (with the time it took) for the
        caller to report; a refusal or a network error is reported and raised here."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        what = f"{method} {path}"
        start = time.perf_counter()
        waited = 0.0
        try:
            self.hold_while_cut(what)
            waited = self._take_slot()
            try:
                resp = self.http.request(method, API_PREFIX + path, body=body, headers=headers)
                try:
                    result = HttpResult(
                        resp.status_code,
                        {k.lower(): v for k, v in resp.items()},
                        bytes(resp.read()),
                    )
                finally:
                    resp.release()
            finally:
                if self.slots is not None:
                    self.slots.release()
        except NETWORK_ERRORS as exc:
            failure = network_failure(what, exc)
            self.report(HTTP, name, (time.perf_counter() - start) * 1000 - waited, 0, failure)
            raise failure from exc
        elapsed = (time.perf_counter() - start) * 1000 - waited
        if result.status < 400:
            return result, elapsed
        refusal = http_failure(what, result.status, result.headers, result.body)
        if refusal.code in expected:
            self.report(HTTP, name, elapsed, len(result.body), None)
            raise Expected(refusal.code, refusal.retry_after)
        self.report(HTTP, name, elapsed, len(result.body), refusal)
        raise refusal

    def _take_slot(self) -> float:
        """Wait for one of the pool's connections; the milliseconds waited."""
        if self.slots is None:
            return 0.0
        queued = time.perf_counter()
        self.slots.acquire()
        waited = (time.perf_counter() - queued) * 1000
        HTTP_WAITS.add(waited)
        return waited

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
