"""The one client of the exam server's jury and operator APIs (docs/protocol.md, "Jury API").

The jury view (Dash callbacks, its feed thread) and the fleet's master (the scripted
national jury, the end-of-run checks, the answer export) both use it. Synchronous on
purpose: the first runs plain threads, the second gevent greenlets (gevent patches the
sockets underneath). One ``urllib3.PoolManager`` is shared by the whole process (it is
thread-safe and keeps connections alive), so ten jurors do not mean ten pools.

Every failure is a :class:`JuryApiError` with the server's error code, or
``unreachable`` when no answer came: callers catch one exception, never a transport's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import urllib3

from vigie.protocol import API_PREFIX, ErrorCode

JSON = dict[str, Any]


class JuryApiError(Exception):
    """A refused or failed request; ``code`` is an ErrorCode value (or ``unreachable``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class JuryIdentity:
    token: str
    username: str
    role: str  # a vigie.protocol.JuryRole value
    centre: str | None


_POOL = urllib3.PoolManager(num_pools=4, maxsize=16, retries=False)


#: Between two reads of a streamed answer export (12,000 candidates' answers take a while).
STREAM_READ_S = 120.0


class JuryClient:
    """A juror's calls. ``token`` from an earlier login, or ``credentials`` to log in on
    the first call and once more when the server no longer knows the token (a server
    restarted by a fault: its tokens are gone, the account is not)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout_s: float = 10.0,
        *,
        credentials: tuple[str, str] | None = None,
        operator_token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.credentials = credentials
        self.operator_token = operator_token
        self._timeout = urllib3.Timeout(connect=min(timeout_s, 5.0), read=timeout_s)

    # --- plumbing ---------------------------------------------------------------
    def _once(
        self,
        method: str,
        path: str,
        body: JSON | None,
        token: str | None,
        stream: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        timeout = urllib3.Timeout(connect=self._timeout.connect_timeout, read=STREAM_READ_S)
        try:
            resp = _POOL.request(
                method,
                self.base_url + API_PREFIX + path,
                body=data,
                headers=headers,
                timeout=timeout if stream else self._timeout,
                preload_content=not stream,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise JuryApiError(0, UNREACHABLE, str(exc)) from exc
        if resp.status >= 400:
            raw = resp.read() if stream else resp.data
            resp.release_conn()
            raise _refusal(resp.status, raw)
        return resp

    def send(self, method: str, path: str, body: JSON | None = None, stream: bool = False) -> Any:
        """The server's response (urllib3; ``path`` under /api/v1); a refusal raises
        JuryApiError with its code. With credentials, logs in first when needed."""
        if self.token is None and self.credentials is not None and not path.endswith("/login"):
            self._log_in()
        try:
            return self._once(method, path, body, self.token, stream)
        except JuryApiError as exc:
            if exc.status != 401 or self.credentials is None or path.endswith("/login"):
                raise
        self._log_in()  # a restarted server: its tokens are gone, the account is not
        return self._once(method, path, body, self.token, stream)

    def _log_in(self) -> None:
        assert self.credentials is not None
        self.login(*self.credentials)

    def _request(self, method: str, path: str, body: JSON | None = None) -> Any:
        resp = self.send(method, path, body)
        try:
            return orjson.loads(resp.data) if resp.data else None
        except orjson.JSONDecodeError:
            return None

    def _get(self, path: str, **params: object) -> Any:
        return self._request("GET", _with_query(path, params))

    def raw(self, path: str, **params: object) -> bytes:
        """A GET's body as the server sent it, for a caller that decodes it into its own
        type (msgspec: a few fields of a 12,000-row snapshot, not a dict per row)."""
        return bytes(self.send("GET", _with_query(path, params)).data)

    def post(self, path: str, body: JSON) -> Any:
        """Any jury action (POST under /api/v1); the server's JSON answer."""
        return self._request("POST", path, body)

    # --- API ----------------------------------------------------------------------
    def login(self, username: str, password: str) -> JuryIdentity:
        resp = self._once("POST", "/jury/login", {"username": username, "password": password}, None)
        try:
            data = orjson.loads(resp.data)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise JuryApiError(502, ErrorCode.BAD_CREDENTIALS.value, "unexpected login answer")
        self.token = data["token"]
        return JuryIdentity(
            token=data["token"],
            username=str(data.get("username", username)),
            role=str(data.get("role", "observer")),
            centre=data.get("centre"),
        )

    def server(self) -> JSON:
        """What the server says it serves: its scenario and knobs (vigie serve)."""
        data: JSON = self._get("/jury/server")
        return data

    def centres(self) -> list[JSON]:
        return list(self._get("/jury/centres"))

    def snapshot(self, centre: str | None = None) -> JSON:
        return dict(self._get("/jury/snapshot", centre=centre))

    def changes(self, since: int, centre: str | None = None) -> JSON:
        return dict(self._get("/jury/changes", since=since, centre=centre))

    def timeline(self, candidate_id: str, answers: bool = False) -> JSON:
        path = f"/jury/candidates/{quote(candidate_id, safe='')}/timeline"
        return dict(self._get(path, answers=1 if answers else None))

    def fraud_alerts(self, since: int | str | None = None) -> list[JSON]:
        data = self._get("/jury/fraud-alerts", since=since)
        return list(data.get("alerts", [])) if isinstance(data, dict) else []

    def connection_test(self, centre: str | None = None) -> JSON:
        """The Monday connection test's figures (docs/connection-test.md)."""
        data: JSON = self._get("/jury/connection-test", centre=centre)
        return data

    def connection_test_csv(self, centre: str | None = None) -> bytes:
        return self.raw("/jury/connection-test.csv", centre=centre)

    def incidents(self, centre: str | None = None) -> JSON:
        return dict(self._get("/jury/incidents", centre=centre))

    def extra_time(
        self,
        unit_id: str,
        seconds: float,
        reason: str,
        *,
        candidate_id: str | None = None,
        centre: str | None = None,
        category: str | None = None,
    ) -> Any:
        body: JSON = {"unit_id": unit_id, "seconds": seconds, **_motive(reason, category)}
        body.update(_target(candidate_id, centre))
        return self._request("POST", "/jury/extra-time", body)

    def incident_time(self, centre: str | None = None) -> JSON:
        """Incident extra time proposed per centre (time disconnected, rounded up)."""
        return dict(self._get("/jury/incident-time", centre=centre))

    def grant_incident_time(self, reason: str, centre: str | None = None) -> Any:
        """Grant the proposals: one centre, or every centre (national jury, no centre)."""
        body: JSON = {"reason": reason}
        if centre is not None:
            body["centre"] = centre
        return self._request("POST", "/jury/incident-time", body)

    def message(
        self,
        text: str,
        reason: str,
        *,
        candidate_id: str | None = None,
        centre: str | None = None,
        category: str | None = None,
    ) -> Any:
        body: JSON = {"text": text, **_motive(reason, category)}
        body.update(_target(candidate_id, centre))
        return self._request("POST", "/jury/messages", body)

    def pause_centre(self, centre: str, reason: str, category: str | None = None) -> Any:
        path = f"/jury/centres/{quote(centre, safe='')}/pause"
        return self._request("POST", path, _motive(reason, category))

    def resume_centre(self, centre: str, reason: str, category: str | None = None) -> Any:
        path = f"/jury/centres/{quote(centre, safe='')}/resume"
        return self._request("POST", path, _motive(reason, category))

    def pause_candidate(self, candidate_id: str, reason: str, category: str | None = None) -> JSON:
        """One candidate's own pause (their centre works on): their answers wait."""
        path = f"/jury/candidates/{quote(candidate_id, safe='')}/pause"
        data: JSON = self._request("POST", path, _motive(reason, category))
        return data

    def resume_candidate(self, candidate_id: str, reason: str, category: str | None = None) -> JSON:
        """Ends the candidate's own pause; a paused centre keeps them paused."""
        path = f"/jury/candidates/{quote(candidate_id, safe='')}/resume"
        data: JSON = self._request("POST", path, _motive(reason, category))
        return data

    def end_candidate_time(
        self, candidate_id: str, reason: str, category: str | None = None
    ) -> JSON:
        """End the candidate's time on the unit running for them, now: the answer's
        ``seconds_lost`` is what they had left (recorded as a negative extra time)."""
        path = f"/jury/candidates/{quote(candidate_id, safe='')}/end"
        data: JSON = self._request("POST", path, _motive(reason, category))
        return data

    # --- results (national jury, once the units are closed) ---------------------------
    def results(self) -> JSON:
        data: JSON = self._get("/jury/results")
        return data

    def results_questions(self) -> JSON:
        data: JSON = self._get("/jury/results/questions")
        return data

    def results_document(self, name: str) -> tuple[bytes, str]:
        """A results document (classement, état récapitulatif) as the server wrote it."""
        resp = self.send("GET", f"/jury/results/{quote(name, safe='')}")
        return bytes(resp.data), str(resp.headers.get("Content-Type", "application/octet-stream"))

    def neutralise(self, question_id: str, reason: str) -> JSON:
        path = f"/jury/questions/{quote(question_id, safe='')}/neutralise"
        data: JSON = self._request("POST", path, {"reason": reason})
        return data

    def replace_unit(self, unit_id: str, backup_id: str, reason: str) -> JSON:
        """Cancel ``unit_id``: ``backup_id``, sat in its own time, counts in its place."""
        path = f"/jury/units/{quote(unit_id, safe='')}/replace"
        data: JSON = self._request("POST", path, {"backup_id": backup_id, "reason": reason})
        return data

    def launch_unit(self, unit_id: str, reason: str, duration_s: float | None = None) -> Any:
        body: JSON = {"reason": reason}
        if duration_s is not None:
            body["duration_s"] = duration_s
        return self._request("POST", f"/jury/units/{quote(unit_id, safe='')}/launch", body)

    def close_unit(self, unit_id: str, reason: str) -> Any:
        return self._request(
            "POST", f"/jury/units/{quote(unit_id, safe='')}/close", {"reason": reason}
        )

    def export_answers(self, since: int = 0) -> Iterator[bytes]:
        """The stored answers after ``since``, one NDJSON line each, streamed (the export
        of a national unit is tens of megabytes). A stream broken in the middle raises
        JuryApiError ``unreachable``: resume from the last line's ``seq``."""
        resp = self.send("GET", _with_query("/jury/answers/export", {"since": since}), stream=True)
        tail = b""
        try:
            for chunk in resp.stream(65536):
                lines = (tail + chunk).split(b"\n")
                tail = lines.pop()
                yield from (line for line in lines if line.strip())
        except urllib3.exceptions.HTTPError as exc:
            resp.close()
            raise JuryApiError(0, UNREACHABLE, f"the stream broke: {exc}") from exc
        except BaseException:
            resp.close()  # abandoned half-read: the connection must not go back to the pool
            raise
        resp.release_conn()
        if tail.strip():
            yield tail

    # --- operator (vigie serve --operator-token) ---------------------------------------
    def fault(self, body: JSON) -> None:
        """Apply a timed fault through the operator endpoint."""
        if not self.operator_token:
            raise JuryApiError(
                0, "no_operator_token", "no operator token (vigie serve --operator-token)"
            )
        try:
            self._once("POST", "/operator/faults", body, self.operator_token)
        except JuryApiError as exc:
            if exc.status in (404, 405):
                raise JuryApiError(
                    exc.status, exc.code, "the target has no fault-control endpoint (not vigie)"
                ) from exc
            raise


def _with_query(path: str, params: dict[str, object]) -> str:
    query = {k: v for k, v in params.items() if v is not None}
    return path + ("?" + urlencode(query) if query else "")


def _refusal(status: int, raw: bytes) -> JuryApiError:
    try:
        payload = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        payload = None
    err = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(err, dict):
        return JuryApiError(status, str(err.get("code", "")), str(err.get("message", "")))
    return JuryApiError(status, "http_error", raw[:200].decode(errors="replace"))


def _motive(reason: str, category: str | None) -> JSON:
    """A reason, and its category (a ReasonCategory value) only when one was chosen: a
    server from before the categories refuses a field it does not know."""
    return {"reason": reason} if category is None else {"reason": reason, "category": category}


def _target(candidate_id: str | None, centre: str | None) -> JSON:
    if (candidate_id is None) == (centre is None):
        raise ValueError("give exactly one of candidate_id or centre")
    return {"candidate_id": candidate_id} if candidate_id is not None else {"centre": centre}
