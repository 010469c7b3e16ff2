"""The run's jury and operator: one small client of the jury and operator APIs.

The master logs in as the demo roster's national jury member to perform the scenario's
national actions (launch, close, incident time) and to watch the supervision counts
during faults; the operator token applies server faults. A token that a restarted
server no longer knows is renewed once. Stdlib and requests only: it runs in the
gevent-patched Locust master.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
import requests

from vigie.protocol import API_PREFIX
from vigie.wire.http import Counts

NATIONAL_USER = ("national", "national-demo")  # the demo roster's national jury account
TIMEOUT_S = 30.0


class JuryError(RuntimeError):
    """A jury or operator call that did not succeed; ``str()`` says what the server said."""


class RowLite(msgspec.Struct):
    """The part of a supervision row the fault watch reads (the rest is skipped)."""

    id: str
    centre: str
    reconnects: int


class _CountsOnly(msgspec.Struct):
    cursor: int
    counts: Counts
    candidates: list[RowLite]


_counts = msgspec.json.Decoder(_CountsOnly)


class JuryClient:
    def __init__(self, target: str, operator_token: str | None = None) -> None:
        self.target = target.rstrip("/")
        self.operator_token = operator_token
        self.session = requests.Session()
        self.token: str | None = None

    # --- jury -------------------------------------------------------------------------
    def login(self) -> str:
        user, password = NATIONAL_USER
        r = self.session.post(
            f"{self.target}{API_PREFIX}/jury/login",
            json={"username": user, "password": password},
            timeout=TIMEOUT_S,
        )
        _raise_for(r, "jury login")
        token: str = r.json()["token"]
        self.token = token
        return token

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        """A jury call (``path`` under /api/v1), logged in first; a stale token is renewed."""
        for attempt in range(2):
            if self.token is None:
                self.login()
            r = self.session.request(
                method,
                f"{self.target}{API_PREFIX}{path}",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=TIMEOUT_S,
            )
            if r.status_code == 401 and attempt == 0:
                self.token = None  # a restarted server: log in again
                continue
            _raise_for(r, f"{method} {path}")
            return r
        raise AssertionError("unreachable")

    def act(self, path: str, body: dict[str, Any]) -> float:
        """A national action (POST); the milliseconds it took."""
        started = time.monotonic()
        self.call("POST", path, body)
        return 1000 * (time.monotonic() - started)

    def counts(self, cursor: int | None) -> tuple[int, Counts, list[RowLite]]:
        """The supervision counts by centre, the rows changed, and the next cursor.

        From the change feed (O(changes)); a snapshot when there is no cursor yet or the
        server restarted (the cursor expired).
        """
        if cursor is not None:
            try:
                feed = _counts.decode(self.call("GET", f"/jury/changes?since={cursor}").content)
                return feed.cursor, feed.counts, feed.candidates
            except JuryError:
                pass  # cursor_expired after a restart, among others: start again
        feed = _counts.decode(self.call("GET", "/jury/snapshot").content)
        return feed.cursor, feed.counts, feed.candidates

    # --- operator ---------------------------------------------------------------------
    def fault(self, body: dict[str, Any]) -> None:
        """Apply a timed fault through the operator endpoint."""
        if not self.operator_token:
            raise JuryError("no operator token (vigie serve --operator-token, then pass it here)")
        r = self.session.post(
            f"{self.target}{API_PREFIX}/operator/faults",
            json=body,
            headers={"Authorization": f"Bearer {self.operator_token}"},
            timeout=TIMEOUT_S,
        )
        if r.status_code in (404, 405):
            raise JuryError("the target has no fault-control endpoint (not a vigie server)")
        _raise_for(r, f"fault {body.get('kind')}")


def _raise_for(r: requests.Response, what: str) -> None:
    if r.status_code >= 400:
        raise JuryError(f"{what} answered {r.status_code}: {r.text[:200]}")
