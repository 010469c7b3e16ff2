"""The run's jury and operator: the national jury of the demo roster, scripted.

The master logs in as the demo roster's national jury member to perform the scenario's
national actions (launch, close, incident time) and to watch the supervision counts
during faults; the operator token applies server faults. The client is the jury view's
own (:mod:`vigie.jury_client`): it renews a token that a restarted server no longer knows.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from vigie.jury_client import JuryApiError, JuryClient
from vigie.wire.http import Counts

NATIONAL_USER = ("national", "national-demo")  # the demo roster's national jury account
#: A snapshot of 12,000 rows is a few megabytes, and the launch call waits for its commit.
TIMEOUT_S = 60.0

__all__ = ["NATIONAL_USER", "JuryApiError", "NationalJury", "RowLite"]


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


class NationalJury(JuryClient):
    """The demo roster's national juror, logged in on the first call."""

    def __init__(self, target: str, operator_token: str | None = None) -> None:
        super().__init__(
            target, timeout_s=TIMEOUT_S, credentials=NATIONAL_USER, operator_token=operator_token
        )

    def act(self, path: str, body: dict[str, Any]) -> float:
        """A national action (POST); the milliseconds it took."""
        started = time.monotonic()
        self.post(path, body)
        return 1000 * (time.monotonic() - started)

    def counts(self, cursor: int | None) -> tuple[int, Counts, list[RowLite]]:
        """The supervision counts by centre, the rows changed, and the next cursor.

        From the change feed (O(changes)); a snapshot when there is no cursor yet or the
        server restarted (the cursor expired).
        """
        if cursor is not None:
            try:
                feed = _counts.decode(self.raw("/jury/changes", since=cursor))
                return feed.cursor, feed.counts, feed.candidates
            except JuryApiError:
                pass  # cursor_expired after a restart, among others: start again
        feed = _counts.decode(self.raw("/jury/snapshot"))
        return feed.cursor, feed.counts, feed.candidates
