"""One simulated exam tablet: a Locust user that follows the whole vigie protocol.

A :class:`Tablet` logs in, pre-downloads its encrypted units, keeps a websocket with
heartbeats, waits for the national launch, fetches the key, answers question after
question with lognormal think times, honours progressive dossiers and the jury's
instructions, and finishes. Network trouble never stops it: the socket reconnects with
exponential backoff and full jitter, answers given offline wait in a queue and are
re-sent with the same action ids.

Cost is what lets 12,000 of them share a 2-core generator: the heartbeat is a libev
timer callback and the acknowledgement a read-watcher callback (see
:mod:`simulator.wsclient`), so the steady state of a tablet costs no greenlet switch at
all. Only the protocol flow (HTTP calls, think times) runs in the Locust user's greenlet,
and a short-lived greenlet exists only while a dropped socket is being reconnected.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event
import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from geventhttpclient import HTTPClient
from locust import User, task
from locust.exception import StopUser

from simulator import settings as fleet
from simulator.settings import FailureKind, FleetCounters, FleetSettings, TabletFailure
from simulator.think import make_answer, think_seconds
from simulator.wsclient import WsClosedError, WsConnection, WsHandshakeError, connect
from vigie.protocol import API_PREFIX, ErrorCode, InstructionKind, MsgType, UnitState, WsClose

#: (request_type, name, response_time_ms, response_length, exception or None)
Reporter = Callable[[str, str, float, int, BaseException | None], None]

#: One keep-alive pool per process and target: tablets' HTTP calls are rare (an answer
#: every minute or so), so thousands of them share a few hundred sockets and the fd
#: budget goes to the websockets.
HTTP_POOL_SIZE = 256
#: A socket with no hb_ack for this many heartbeat intervals is dead (a frozen server
#: sends no FIN): drop it and reconnect.
STALE_AFTER_BEATS = 4

_pools: dict[tuple[str, int, float], HTTPClient] = {}
_network_errors = (OSError, gevent.Timeout)


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
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def error_code(self) -> str | None:
        try:
            return str(orjson.loads(self.body)["error"]["code"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None


class HttpFailure(TabletFailure):
    """A refused HTTP call: the status and the machine-readable code come along."""

    def __init__(self, kind: FailureKind, detail: str, status: int, code: str | None) -> None:
        super().__init__(kind, detail)
        self.status = status
        self.code = code


class _Retry(Exception):
    """An expected refusal (409 ...): try again later, not a failure."""

    def __init__(self, code: str | None) -> None:
        super().__init__(code or "")
        self.code = code


def _kind_for(exc: BaseException) -> FailureKind:
    if isinstance(exc, (TimeoutError, gevent.Timeout)):
        return FailureKind.TIMEOUT
    return FailureKind.REFUSED


def _backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): spreads a reconnecting
    fleet instead of letting it knock on the server in lockstep."""
    return random.uniform(0.0, min(cap, base * (2 ** min(attempt, 30))))


class Tablet:
    """The protocol state machine of one tablet, independent of Locust (``report`` is how
    it tells the outside world about every operation)."""

    def __init__(
        self, cfg: FleetSettings, identity: fleet.TabletIdentity, report: Reporter
    ) -> None:
        self.cfg = cfg
        self.identity = identity
        self.report = report
        url = urlsplit(cfg.target)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 80
        self.http = http_pool(self.host, self.port, cfg.request_timeout_s)
        self.token: str | None = None
        self.units: dict[str, dict[str, Any]] = {}
        self.unit_order: list[str] = []
        self.packages: dict[str, bytes] = {}
        self.interval = cfg.heartbeat_interval_s
        # websocket
        self.ws: WsConnection | None = None
        self._ws_counted = False
        self._timer: Any = None
        self._reconnector: gevent.Greenlet[Any, Any] | None = None
        self._stopping = False
        self.seq = 0
        self._hb_sent_at = 0.0
        self._hb_seq = -1
        self._last_ack = 0.0
        self.reconnects = 0
        # exam progress, shown in heartbeats
        self.current_unit: str | None = None
        self.position = 0
        self.answered = 0
        self.battery = random.randint(60, 100)
        self.deadline: float | None = None
        self.paused = False
        self.ended_units: set[str] = set()  # closed by the jury or ended by instruction
        self.applied: set[str] = set()  # instruction ids already carried out
        self.acked: list[str] = []  # instruction ids confirmed, in order (for tests)
        self.offline: list[tuple[str, dict[str, Any]]] = []  # (unit, answer) to re-send
        self.sent_actions: list[str] = []  # action ids the server acknowledged (for tests)
        self.resent: list[str] = []  # ... of which the first try failed (sent again later)
        self._failed_once: set[str] = set()
        self.finished_units: list[str] = []
        self._wake = gevent.event.Event()

    # --- HTTP ----------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        name: str,
        body: dict[str, Any] | None = None,
        retry_codes: frozenset[str] = frozenset(),
    ) -> HttpResult:
        """One HTTP operation, reported under ``name``; raises TabletFailure (reported) or
        _Retry (for an expected refusal in ``retry_codes``, not reported as a failure)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = orjson.dumps(body) if body is not None else b""
        start = time.perf_counter()
        try:
            resp = self.http.request(method, API_PREFIX + path, body=payload, headers=headers)
            try:
                data = resp.read()
                result = HttpResult(
                    resp.status_code, {k.lower(): v for k, v in resp.items()}, bytes(data)
                )
            finally:
                resp.release()
        except _network_errors as exc:
            failure = TabletFailure(_kind_for(exc), f"{method} {path}: {exc!r}")
            self.report("HTTP", name, (time.perf_counter() - start) * 1000, 0, failure)
            raise failure from exc
        elapsed = (time.perf_counter() - start) * 1000
        if result.status < 400:
            self.report("HTTP", name, elapsed, len(result.body), None)
            return result
        code = result.error_code()
        if code in retry_codes:
            self.report("HTTP", name, elapsed, len(result.body), None)
            raise _Retry(code)
        if code == ErrorCode.CONNECTION_CAP:
            kind = FailureKind.CONNECTION_CAP
        elif result.status >= 500:
            kind = FailureKind.HTTP_5XX
        else:
            kind = FailureKind.HTTP_4XX
        failure = HttpFailure(
            kind, f"{method} {path}: HTTP {result.status} {code}", result.status, code
        )
        self.report("HTTP", name, elapsed, len(result.body), failure)
        raise failure

    def _with_backoff(
        self, op: Callable[[], HttpResult], until: Callable[[], bool]
    ) -> HttpResult | None:
        """Retry ``op`` on failures until it works or ``until()`` says to give up."""
        attempt = 0
        while not until():
            try:
                return op()
            except TabletFailure as exc:
                if isinstance(exc, HttpFailure) and exc.code in (
                    ErrorCode.UNAUTHENTICATED,
                    ErrorCode.TOKEN_EXPIRED,
                ):
                    self.login()
                    continue
                self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
                attempt += 1
        return None

    def login(self) -> None:
        ident = self.identity
        body = {
            "candidate_id": ident.candidate_id,
            "centre": ident.centre,
            "access_code": ident.access_code,
        }
        attempt = 0
        while True:
            self.token = None
            try:
                doc = self._call("POST", "/login", "login", body).json()
                break
            except TabletFailure as exc:
                if isinstance(exc, HttpFailure) and exc.code == ErrorCode.BAD_CREDENTIALS:
                    raise
                self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
                attempt += 1
        self.token = str(doc["token"])
        self.interval = float(doc.get("heartbeat_interval_s") or self.cfg.heartbeat_interval_s)
        self._merge_units(doc.get("units") or [])

    def _merge_units(self, units: list[dict[str, Any]]) -> None:
        for unit in units:
            uid = str(unit["unit_id"])
            if uid not in self.units:
                self.unit_order.append(uid)
            self.units[uid] = unit

    def download(self, unit_id: str) -> bytes:
        """The encrypted package, checked against X-Vigie-Sha256 and the unit's digest."""
        while True:
            res = self._with_backoff(
                lambda: self._call("GET", f"/units/{unit_id}/package", "package"),
                lambda: self._stopping,
            )
            if res is None:
                raise StopUser()
            digest = hashlib.sha256(res.body).hexdigest()
            expected = {
                res.headers.get("x-vigie-sha256"),
                self.units[unit_id].get("package_sha256"),
            }
            expected.discard(None)
            if expected and expected != {digest}:
                self.report(
                    "HTTP",
                    "package",
                    0,
                    len(res.body),
                    TabletFailure(FailureKind.PROTOCOL, f"package {unit_id} digest mismatch"),
                )
                self._nap(self.cfg.reconnect_base_s)
                continue
            self.packages[unit_id] = res.body
            return res.body

    # --- websocket (connect in a greenlet, traffic in hub callbacks) ----------------------
    def open_socket(self) -> bool:
        """One connection attempt, reported as ``ws_connect``; True when open."""
        start = time.perf_counter()
        try:
            conn = connect(
                self.host,
                self.port,
                f"{API_PREFIX}/ws",
                headers={"Authorization": f"Bearer {self.token}"},
                deflate=self.cfg.permessage_deflate,
                timeout=self.cfg.request_timeout_s,
            )
        except WsHandshakeError as exc:
            code = None
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                code = orjson.loads(exc.body)["error"]["code"]
            if code == ErrorCode.CONNECTION_CAP:
                kind = FailureKind.CONNECTION_CAP
            elif exc.status >= 500:
                kind = FailureKind.HTTP_5XX
            else:
                kind = FailureKind.HTTP_4XX
            failure = TabletFailure(kind, f"ws upgrade: HTTP {exc.status} {code}")
            self.report("WS", "ws_connect", (time.perf_counter() - start) * 1000, 0, failure)
            if exc.status == 401:
                self.login()
            return False
        except (*_network_errors, WsClosedError) as exc:
            failure = TabletFailure(_kind_for(exc), f"ws connect: {exc!r}")
            self.report("WS", "ws_connect", (time.perf_counter() - start) * 1000, 0, failure)
            return False
        except Exception as exc:  # a garbled handshake answer
            failure = TabletFailure(FailureKind.PROTOCOL, f"ws connect: {exc!r}")
            self.report("WS", "ws_connect", (time.perf_counter() - start) * 1000, 0, failure)
            return False
        self.report("WS", "ws_connect", (time.perf_counter() - start) * 1000, 0, None)
        self.ws = conn
        self._ws_counted = True
        FleetCounters.socket_opened()
        self._last_ack = time.monotonic()
        self._hb_seq = -1
        conn.start(self._on_message, self._on_close)
        # First beat after a random phase: 10,000 tablets connected in one wave must not
        # beat in lockstep.
        self._timer = gevent.get_hub().loop.timer(random.uniform(0.0, self.interval), self.interval)
        self._timer.start(self._beat)
        return True

    def ensure_socket(self) -> None:
        """Connect now, retrying with backoff (blocks the caller)."""
        attempt = 0
        while not self._stopping and (self.ws is None or self.ws.closed):
            if self.open_socket():
                return
            self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
            attempt += 1

    def _socket_gone(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.close()
            self._timer = None
        if self._ws_counted:
            self._ws_counted = False
            FleetCounters.socket_closed()

    def _on_close(self, code: int, reason: str) -> None:
        # hub callback: never block here
        self._socket_gone()
        if self._stopping:
            return
        if code == WsClose.SUPERSEDED:
            kind = FailureKind.PROTOCOL  # another socket for this candidate: a fleet bug
        elif code == WsClose.POLICY_VIOLATION:
            kind = FailureKind.PROTOCOL
            self.token = None  # perhaps a token the server no longer accepts: log in again
        else:
            kind = FailureKind.DISCONNECTED
        self.report("WS", "heartbeat", 0, 0, TabletFailure(kind, f"socket closed: {code} {reason}"))
        if code != WsClose.SUPERSEDED and self._reconnector is None:
            self._reconnector = gevent.spawn(self._reconnect)
        self._wake.set()

    def _reconnect(self) -> None:
        try:
            attempt = 0
            while not self._stopping:
                self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
                attempt += 1
                if self.token is None:
                    self.login()
                if self.open_socket():
                    self.reconnects += 1
                    self._wake.set()  # the main flow flushes the offline answers
                    return
        finally:
            self._reconnector = None

    def _beat(self) -> None:
        # hub callback (libev timer): the steady-state cost of a tablet lives here
        conn = self.ws
        if conn is None or conn.closed:
            return
        now = time.monotonic()
        if self._hb_seq >= 0 and now - self._last_ack > STALE_AFTER_BEATS * self.interval:
            conn.abort()
            self._socket_gone()
            self.report("WS", "heartbeat", 0, 0, TabletFailure(FailureKind.TIMEOUT, "no hb_ack"))
            if self._reconnector is None:
                self._reconnector = gevent.spawn(self._reconnect)
            return
        self.seq += 1
        try:
            conn.send_text(
                orjson.dumps(
                    {
                        "type": "hb",
                        "seq": self.seq,
                        "unit_id": self.current_unit,
                        "position": self.position,
                        "answered": self.answered,
                        "battery": self.battery,
                        "network": "wifi",
                        "client_ts": time.time(),
                    }
                )
            )
        except WsClosedError:
            return
        if self._hb_seq < 0:
            self._last_ack = now
        self._hb_seq = self.seq
        self._hb_sent_at = now

    def _on_message(self, is_text: bool, payload: bytes) -> None:
        # hub callback
        try:
            msg = orjson.loads(payload)
            kind = msg["type"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.report(
                "WS", "message", 0, len(payload), TabletFailure(FailureKind.PROTOCOL, "bad message")
            )
            return
        if kind == MsgType.HEARTBEAT_ACK:
            now = time.monotonic()
            self._last_ack = now
            if msg.get("seq") == self._hb_seq:
                self.report("WS", "heartbeat", (now - self._hb_sent_at) * 1000, len(payload), None)
            if msg.get("instructions"):
                self._instructions(msg["instructions"])
        elif kind == MsgType.LAUNCH:
            unit = self.units.setdefault(msg["unit_id"], {"unit_id": msg["unit_id"]})
            if msg["unit_id"] not in self.unit_order:
                self.unit_order.append(msg["unit_id"])
            unit["state"] = UnitState.LAUNCHED
            unit["deadline"] = msg.get("deadline")
            self._wake.set()
        elif kind == MsgType.CLOSE_UNIT:
            self.ended_units.add(msg["unit_id"])
            self._wake.set()
        elif kind == MsgType.WELCOME:
            self.interval = float(msg.get("heartbeat_interval_s") or self.interval)
            self._merge_units(msg.get("units") or [])
            self._wake.set()

    def _instructions(self, items: list[dict[str, Any]]) -> None:
        ids = []
        for ins in items:
            iid = str(ins.get("id"))
            ids.append(iid)
            if iid in self.applied:
                continue  # the ack got lost (reconnect): confirm again, do not apply twice
            self.applied.add(iid)
            kind = ins.get("kind")
            unit_id = ins.get("unit_id")
            if kind == InstructionKind.EXTRA_TIME:
                if unit_id in (None, self.current_unit):
                    if ins.get("deadline") is not None:
                        self.deadline = float(ins["deadline"])
                    elif self.deadline is not None:
                        self.deadline += float(ins.get("seconds") or 0.0)
            elif kind == InstructionKind.PAUSE:
                self.paused = True
            elif kind == InstructionKind.RESUME:
                self.paused = False
                if ins.get("deadline") is not None and unit_id in (None, self.current_unit):
                    self.deadline = float(ins["deadline"])
            elif kind == InstructionKind.END_UNIT and unit_id:
                self.ended_units.add(str(unit_id))
        conn = self.ws
        if conn is not None and not conn.closed and ids:
            try:
                conn.send_text(orjson.dumps({"type": MsgType.INSTRUCTION_ACK, "ids": ids}))
                self.acked.extend(i for i in ids if i not in self.acked)
            except WsClosedError:
                pass
        self._wake.set()

    # --- the exam --------------------------------------------------------------------------
    def _nap(self, seconds: float) -> None:
        gevent.sleep(seconds)

    def _wait(self, until: float, interrupt: Callable[[], bool]) -> bool:
        """Sleep until wall-clock ``until``; False when ``interrupt()`` came first."""
        while not interrupt():
            left = until - time.time()
            if left <= 0:
                return True
            self._wake.clear()
            self._wake.wait(left)
        return False

    def run(self) -> None:
        self.login()
        if self.cfg.predownload:
            for uid in self.unit_order:
                if not self._unit_done(uid):
                    self.download(uid)
        self.ensure_socket()
        while not self._stopping:
            todo = next((u for u in self.unit_order if not self._unit_done(u)), None)
            if todo is None:
                return
            if self.units[todo].get("state") == UnitState.LAUNCHED:
                self.sit(todo)
            else:
                self._flush()
                self._wake.clear()
                self._wake.wait(30.0)

    def _unit_done(self, uid: str) -> bool:
        unit = self.units[uid]
        return (
            bool(unit.get("finished"))
            or unit.get("state") == UnitState.CLOSED
            or uid in self.ended_units
            or uid in self.finished_units
        )

    def _over(self, uid: str) -> bool:
        return (
            self._stopping
            or uid in self.ended_units
            or (self.deadline is not None and time.time() >= self.deadline)
        )

    def sit(self, uid: str) -> None:
        """Sit one launched unit: key, questions, answers, finish."""
        self.current_unit = uid
        self.position = 0
        self.answered = 0
        self.deadline = None
        res = self._fetch_key(uid)
        if res is None:
            self._leave(uid)
            return
        key = res.json()
        self.deadline = float(key["deadline"])
        package = self.packages.get(uid) or self.download(uid)
        doc = orjson.loads(
            AESGCM(base64.b64decode(key["key"])).decrypt(package[:12], package[12:], uid.encode())
        )
        questions: list[dict[str, Any]] = doc["questions"]
        todo = max(0, min(len(questions), round(len(questions) * self.cfg.answer_fraction)))
        prev_final: str | None = None
        for i, q in enumerate(questions[:todo]):
            if not self._think(uid):
                break
            self.position = i
            if q.get("locked"):
                unlocked = self._unlock(uid, q, prev_final)
                if unlocked is None:
                    break
                q = unlocked
            body = {
                "action_id": uuid.uuid4().hex,
                "question_id": q["id"],
                "answer": make_answer(q),
                "final": q.get("dossier_id") is not None,
                "client_ts": time.time(),
            }
            self._answer(uid, body)
            self.answered += 1
            prev_final = q["id"] if body["final"] else prev_final
            if random.random() < 0.002:
                self.battery = max(5, self.battery - 1)
        self._finish(uid)
        self._leave(uid)

    def _fetch_key(self, uid: str) -> HttpResult | None:
        attempt = 0
        while not self._over(uid):
            try:
                return self._call(
                    "GET",
                    f"/units/{uid}/key",
                    "key",
                    retry_codes=frozenset({ErrorCode.UNIT_NOT_LAUNCHED}),
                )
            except (_Retry, TabletFailure):
                self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
                attempt += 1
        return None

    def _leave(self, uid: str) -> None:
        self.current_unit = None
        self.position = 0
        self.answered = 0
        self.deadline = None
        self.finished_units.append(uid)

    def _think(self, uid: str) -> bool:
        """Think, then wait out a pause; False once the unit is over."""
        until = time.time() + think_seconds(self.cfg.think_time, self.cfg.time_compression)
        if not self._wait(until, lambda: self._over(uid)):
            return False
        while self.paused and not self._over(uid):
            self._wake.clear()
            self._wake.wait(1.0)
        self._flush()
        return not self._over(uid)

    def _unlock(self, uid: str, stub: dict[str, Any], prev: str | None) -> dict[str, Any] | None:
        """A locked dossier question, fetched once its predecessor is final on the server."""
        attempt = 0
        while not self._over(uid):
            self._flush()
            if not self.offline:
                try:
                    return dict(
                        self._call(
                            "GET",
                            f"/units/{uid}/questions/{stub['id']}",
                            "question",
                            retry_codes=frozenset(
                                {ErrorCode.QUESTION_LOCKED, ErrorCode.CENTRE_PAUSED}
                            ),
                        ).json()
                    )
                except (_Retry, TabletFailure):
                    pass
            self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
            attempt += 1
        return None

    def _answer(self, uid: str, body: dict[str, Any]) -> None:
        """Send now, or keep for later if the server cannot be reached."""
        self.offline.append((uid, body))
        self._flush()

    def _flush(self) -> None:
        """Re-send the queued answers in order, with their original action ids."""
        while self.offline and not self._stopping:
            uid, body = self.offline[0]
            try:
                self._call(
                    "POST",
                    f"/units/{uid}/answers",
                    "answer",
                    body,
                    retry_codes=frozenset({ErrorCode.CENTRE_PAUSED}),
                )
            except _Retry:
                self.paused = True  # the centre is paused: the resume instruction will come
                return
            except TabletFailure as exc:
                code = exc.code if isinstance(exc, HttpFailure) else None
                status = exc.status if isinstance(exc, HttpFailure) else 0
                if code in (ErrorCode.UNAUTHENTICATED, ErrorCode.TOKEN_EXPIRED):
                    self.login()
                    continue
                if status and 400 <= status < 500:
                    self.offline.pop(0)  # refused for good (closed unit, ...): never re-send
                    continue
                self._failed_once.add(body["action_id"])
                return  # offline: keep it
            self.offline.pop(0)
            self.sent_actions.append(body["action_id"])
            if body["action_id"] in self._failed_once:
                self._failed_once.discard(body["action_id"])
                self.resent.append(body["action_id"])

    def _finish(self, uid: str) -> None:
        if uid in self.ended_units and self.units[uid].get("state") == UnitState.CLOSED:
            return
        body = {"action_id": uuid.uuid4().hex, "client_ts": time.time()}
        grace = time.time() + 4 * self.cfg.reconnect_max_s
        attempt = 0
        while not self._stopping and time.time() < grace:
            self._flush()
            try:
                self._call("POST", f"/units/{uid}/finish", "finish", body)
                return
            except TabletFailure as exc:
                if isinstance(exc, HttpFailure) and 400 <= exc.status < 500:
                    return  # closed or already finished: nothing more to do
            self._nap(_backoff(attempt, self.cfg.reconnect_base_s, self.cfg.reconnect_max_s))
            attempt += 1

    def shutdown(self) -> None:
        """Close the socket (counted exactly once) and stop every background activity."""
        self._stopping = True
        if self._reconnector is not None and self._reconnector is not gevent.getcurrent():
            self._reconnector.kill(block=False)
            self._reconnector = None
        conn, self.ws = self.ws, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(WsClosedError):
                conn.close(WsClose.NORMAL)
        self._socket_gone()


class TabletUser(User):
    """A Locust user per tablet: reads :func:`simulator.settings.current` and takes the
    next identity of the roster (stops at once when the roster is exhausted)."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.tablet: Tablet | None = None

    def _report(
        self, rtype: str, name: str, ms: float, length: int, exc: BaseException | None
    ) -> None:
        self.environment.events.request.fire(
            request_type=rtype,
            name=name,
            response_time=ms,
            response_length=length,
            exception=exc,
            context=None,
        )

    @task
    def sit_the_exam(self) -> None:
        identity = fleet.next_identity()
        if identity is None:
            raise StopUser()
        self.tablet = Tablet(fleet.current(), identity, self._report)
        try:
            self.tablet.run()
        finally:
            self.tablet.shutdown()
        raise StopUser()

    def on_stop(self) -> None:
        if self.tablet is not None:
            self.tablet.shutdown()
