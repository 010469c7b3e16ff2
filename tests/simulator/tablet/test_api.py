"""The tablet's HTTP calls against a scripted stand-in for the keep-alive pool."""

from __future__ import annotations

import random

import msgspec
import pytest

from simulator.settings import FailureKind, FleetSettings, TabletFailure, TabletIdentity
from simulator.tablet.api import TabletApi
from simulator.tablet.backoff import Backoff, Pacer
from simulator.tablet.failures import Expected, HttpFailure, Stopped
from vigie.protocol import ErrorCode, UnitState
from vigie.wire.http import (
    AnswerIn,
    AnswerResult,
    ErrorBody,
    ErrorResponse,
    Login,
    LoginOk,
    UnitInfo,
    encoder,
)

IDENT = TabletIdentity("C1", "PARIS", "secret", 1)


class Resp:
    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self._body = body
        self._headers = headers or {}

    def items(self) -> list[tuple[str, str]]:
        return list(self._headers.items())

    def read(self) -> bytes:
        return self._body

    def release(self) -> None:
        pass


class Http:
    """Answers each request with the next scripted response (or raises it)."""

    def __init__(self, *script: Resp | BaseException) -> None:
        self.script = list(script)
        self.requests: list[tuple[str, str, bytes, dict[str, str]]] = []

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Resp:
        self.requests.append((method, path, body, headers))
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


def error(status: int, code: str, headers: dict[str, str] | None = None) -> Resp:
    body = encoder.encode(ErrorResponse(error=ErrorBody(code=code, message="no")))
    return Resp(status, body, headers)


def login_ok() -> Resp:
    unit = UnitInfo(
        unit_id="U1",
        title="t",
        kind="standard",
        question_count=3,
        duration_s=60.0,
        state=UnitState.SCHEDULED,
        launched_at=None,
        deadline=None,
        extra_time_s=0.0,
        finished=False,
        package_sha256="ab",
    )
    doc = LoginOk(
        token="T1", candidate_id="C1", centre="PARIS", heartbeat_interval_s=2.0, units=[unit]
    )
    return Resp(200, encoder.encode(doc))


class Reports(list[tuple[str, str, BaseException | None]]):
    def __call__(
        self, rtype: str, name: str, ms: float, length: int, exc: BaseException | None
    ) -> None:
        self.append((rtype, name, exc))


def make(http: Http, stopping: bool = False) -> tuple[TabletApi, Reports, list[float]]:
    naps: list[float] = []
    reports = Reports()
    pacer = Pacer(Backoff(0.1, 1.0), sleep=naps.append, rng=random.Random(1))
    cfg = FleetSettings(target="http://127.0.0.1:9999")
    api = TabletApi(cfg, IDENT, reports, pacer, lambda: stopping, http)
    return api, reports, naps


def test_login_sends_a_typed_body_and_decodes_the_answer() -> None:
    http = Http(login_ok())
    api, reports, _ = make(http)
    seen: list[LoginOk] = []
    api.on_login = seen.append
    doc = api.login()
    assert doc.token == "T1" and api.token == "T1" and seen == [doc]
    assert doc.units[0].unit_id == "U1"
    method, path, body, headers = http.requests[0]
    assert (method, path) == ("POST", "/api/v1/login") and "Authorization" not in headers
    assert msgspec.json.decode(body, type=Login) == Login("C1", "PARIS", "secret")
    assert reports == [("HTTP", "login", None)]


def test_login_honours_retry_after_then_succeeds() -> None:
    http = Http(error(503, ErrorCode.CONNECTION_CAP, {"Retry-After": "4"}), OSError(), login_ok())
    api, reports, naps = make(http)
    api.login()
    assert len(http.requests) == 3
    assert 4.0 <= naps[0] <= 4.1  # what the server asked for, plus the jitter
    assert naps[1] <= 0.2  # no Retry-After: the plain backoff
    kinds = [getattr(exc, "kind", None) for _, _, exc in reports]
    assert kinds == [FailureKind.CONNECTION_CAP, FailureKind.REFUSED, None]


def test_bad_credentials_are_not_retried() -> None:
    http = Http(error(401, ErrorCode.BAD_CREDENTIALS), login_ok())
    api, _, naps = make(http)
    with pytest.raises(HttpFailure) as err:
        api.login()
    assert err.value.code == ErrorCode.BAD_CREDENTIALS
    assert len(http.requests) == 1 and naps == []


def test_login_gives_up_when_the_tablet_stops() -> None:
    api, _, _ = make(Http(), stopping=True)
    with pytest.raises(Stopped):
        api.login()


def test_the_token_rides_on_every_call_and_expected_refusals_are_not_failures() -> None:
    http = Http(login_ok(), error(409, ErrorCode.UNIT_NOT_LAUNCHED))
    api, reports, _ = make(http)
    api.login()
    with pytest.raises(Expected) as err:
        api.key("U1")
    assert err.value.code == ErrorCode.UNIT_NOT_LAUNCHED
    assert http.requests[1][1] == "/api/v1/units/U1/key"
    assert http.requests[1][3] == {"Authorization": "Bearer T1"}
    assert reports[-1] == ("HTTP", "key", None)


def answer_in() -> AnswerIn:
    return AnswerIn(
        action_id="A1", question_id="q1", answer={"scale": 1}, final=False, client_ts=1.0
    )


def test_answer_round_trip() -> None:
    result = AnswerResult(
        action_id="A1",
        question_id="q1",
        server_ts=2.0,
        client_ts=1.0,
        duplicate=True,
        unlocked=None,
    )
    http = Http(Resp(200, encoder.encode(result)))
    api, _, _ = make(http)
    assert api.answer("U1", answer_in()) == result
    assert msgspec.json.decode(http.requests[0][2], type=AnswerIn) == answer_in()


def test_action_id_reused_is_reported_as_a_protocol_failure() -> None:
    api, reports, _ = make(Http(error(409, ErrorCode.ACTION_ID_REUSED)))
    with pytest.raises(HttpFailure) as err:
        api.answer("U1", answer_in())
    assert err.value.kind is FailureKind.PROTOCOL
    assert reports == [("HTTP", "answer", err.value)]


def test_an_answer_that_does_not_decode_is_a_protocol_failure() -> None:
    api, reports, _ = make(Http(Resp(200, b'{"action_id": "A1"}')))
    with pytest.raises(TabletFailure) as err:
        api.answer("U1", answer_in())
    assert err.value.kind is FailureKind.PROTOCOL
    assert reports == [("HTTP", "answer", err.value)]  # reported once, as a failure


def test_network_errors_are_reported_and_raised() -> None:
    api, reports, _ = make(Http(ConnectionResetError()))
    with pytest.raises(TabletFailure) as err:
        api.package("U1")
    assert err.value.kind is FailureKind.REFUSED
    assert reports == [("HTTP", "package", err.value)]


def test_package_comes_with_the_announced_digest() -> None:
    api, _, _ = make(Http(Resp(200, b"\x00" * 20, {"X-Vigie-Sha256": "cafe"})))
    body, digest = api.package("U1")
    assert body == b"\x00" * 20 and digest == "cafe"


def test_a_wait_for_a_pooled_connection_is_timed_apart_and_not_the_servers() -> None:
    import gevent
    from gevent.lock import BoundedSemaphore

    from simulator.tablet.api import HTTP_WAITS

    class Slow(Http):
        def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Resp:
            gevent.sleep(0.05)  # the server's own time
            return super().request(method, path, body, headers)

    times: list[float] = []
    api = TabletApi(
        FleetSettings(target="http://127.0.0.1:9999"),
        IDENT,
        lambda rtype, name, ms, n, exc: times.append(ms),
        Pacer(Backoff(0.1, 1.0), sleep=gevent.sleep, rng=random.Random(1)),
        lambda: False,
        Slow(Resp(200, b"{}")),
    )
    api.slots = BoundedSemaphore(1)
    HTTP_WAITS.buckets.clear()
    api.slots.acquire()  # another tablet holds the pool's one connection...
    gevent.spawn_later(0.3, api.slots.release)  # ...for 0.3 s
    api.request("GET", "/me", "me")
    (ms,) = times
    assert 40 <= ms < 200  # the server's 50 ms, not the 300 ms spent waiting for the pool
    (waited,) = [k for k, n in HTTP_WAITS.buckets.items() for _ in range(n)]
    assert 250 <= waited <= 500
    assert api.slots.acquire(blocking=False)  # given back after the call
