"""A small synchronous client for the exam server's jury API (docs/protocol.md, "Jury API").

Synchronous on purpose: Dash callbacks and the feed thread are plain threads. One
``urllib3.PoolManager`` is shared by the whole dashboard process (it is thread-safe
and keeps connections alive), so ten jurors do not mean ten connection pools.
"""

from __future__ import annotations

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


class JuryClient:
    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._timeout = urllib3.Timeout(connect=min(timeout_s, 5.0), read=timeout_s)

    # --- plumbing ---------------------------------------------------------------
    def _send(self, method: str, path: str, body: JSON | None = None) -> Any:
        """The server's response (urllib3); a refusal raises JuryApiError with its code."""
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            resp = _POOL.request(
                method,
                self.base_url + API_PREFIX + path,
                body=data,
                headers=headers,
                timeout=self._timeout,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise JuryApiError(0, UNREACHABLE, str(exc)) from exc
        if resp.status >= 400:
            try:
                payload = orjson.loads(resp.data) if resp.data else None
            except orjson.JSONDecodeError:
                payload = None
            err = payload.get("error") if isinstance(payload, dict) else None
            if isinstance(err, dict):
                raise JuryApiError(
                    resp.status, str(err.get("code", "")), str(err.get("message", ""))
                )
            raise JuryApiError(resp.status, "http_error", resp.data[:200].decode(errors="replace"))
        return resp

    def _request(self, method: str, path: str, body: JSON | None = None) -> Any:
        resp = self._send(method, path, body)
        try:
            return orjson.loads(resp.data) if resp.data else None
        except orjson.JSONDecodeError:
            return None

    def _get(self, path: str, **params: object) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return self._request("GET", path + ("?" + urlencode(query) if query else ""))

    # --- API ----------------------------------------------------------------------
    def login(self, username: str, password: str) -> JuryIdentity:
        data = self._request("POST", "/jury/login", {"username": username, "password": password})
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            raise JuryApiError(502, ErrorCode.BAD_CREDENTIALS.value, "unexpected login answer")
        self.token = data["token"]
        return JuryIdentity(
            token=data["token"],
            username=str(data.get("username", username)),
            role=str(data.get("role", "observer")),
            centre=data.get("centre"),
        )

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
        query = "?" + urlencode({"centre": centre}) if centre else ""
        return bytes(self._send("GET", "/jury/connection-test.csv" + query).data)

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
    ) -> Any:
        body: JSON = {"unit_id": unit_id, "seconds": seconds, "reason": reason}
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
        self, text: str, reason: str, *, candidate_id: str | None = None, centre: str | None = None
    ) -> Any:
        body: JSON = {"text": text, "reason": reason}
        body.update(_target(candidate_id, centre))
        return self._request("POST", "/jury/messages", body)

    def pause_centre(self, centre: str, reason: str) -> Any:
        return self._request(
            "POST", f"/jury/centres/{quote(centre, safe='')}/pause", {"reason": reason}
        )

    def resume_centre(self, centre: str, reason: str) -> Any:
        return self._request(
            "POST", f"/jury/centres/{quote(centre, safe='')}/resume", {"reason": reason}
        )

    # --- results (national jury, once the units are closed) ---------------------------
    def results(self) -> JSON:
        data: JSON = self._get("/jury/results")
        return data

    def results_questions(self) -> JSON:
        data: JSON = self._get("/jury/results/questions")
        return data

    def results_document(self, name: str) -> tuple[bytes, str]:
        """A results document (classement, état récapitulatif) as the server wrote it."""
        resp = self._send("GET", f"/jury/results/{quote(name, safe='')}")
        return bytes(resp.data), str(resp.headers.get("Content-Type", "application/octet-stream"))

    def neutralise(self, question_id: str, reason: str) -> JSON:
        path = f"/jury/questions/{quote(question_id, safe='')}/neutralise"
        data: JSON = self._request("POST", path, {"reason": reason})
        return data

    def launch_unit(self, unit_id: str, reason: str, duration_s: float | None = None) -> Any:
        body: JSON = {"reason": reason}
        if duration_s is not None:
            body["duration_s"] = duration_s
        return self._request("POST", f"/jury/units/{quote(unit_id, safe='')}/launch", body)


def _target(candidate_id: str | None, centre: str | None) -> JSON:
    if (candidate_id is None) == (centre is None):
        raise ValueError("give exactly one of candidate_id or centre")
    return {"candidate_id": candidate_id} if candidate_id is not None else {"centre": centre}
