"""The offline queue: answers are sent in order, and those the server could not take
wait here with their action ids until it can.

An answer is only "stored" once the server said so: a 200, or a 200 ``duplicate: true``
for a re-send whose first try had been committed before the connection broke (the
server scopes action ids per candidate and operation, so the same id, same request is
the same answer). A re-send is always the very same :class:`~vigie.wire.http.AnswerIn`,
same ``action_id``. What the tablet does with each refusal is
:func:`~.failures.verdict`'s: network trouble or a 5xx keeps the answer (and stops the
flush: order matters for progressive dossiers); ``centre_paused`` keeps it and reports
the pause; a 401 logs in again (once per flush) and goes on; ``409 action_id_reused``
is a fleet bug, reported by the call and never retried; any other 4xx (a closed unit,
...) drops it for good.

Bound to the process's :class:`~.ledger.Ledger` (:meth:`AnswerQueue.bind`), the queue books
every acknowledgement there, tells it while it holds answers (pending at the end of the
run), and counts, per centre, the answers that had to wait (``went_offline``: each answer
once, the first time a flush leaves it queued).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from simulator.settings import TabletFailure
from vigie.wire.http import AnswerIn, AnswerResult

from .failures import Expected, Verdict, verdict
from .ledger import Ledger


@dataclass(slots=True)
class Pending:
    unit_id: str
    body: AnswerIn
    tries: int = 0  # failed sends so far


class Flush(Enum):
    EMPTY = "empty"  # everything queued is stored (or dropped)
    OFFLINE = "offline"  # the server cannot be reached: the rest waits
    PAUSED = "paused"  # the centre is paused: the rest waits for the resume


@dataclass(slots=True)
class AnswerQueue:
    send: Callable[[str, AnswerIn], AnswerResult]  # raises TabletFailure or Expected
    relogin: Callable[[], object]
    pending: deque[Pending] = field(default_factory=deque)
    stored: list[str] = field(default_factory=list)  # action ids the server holds, in order
    duplicates: list[str] = field(default_factory=list)  # ... answered duplicate: true
    resent: list[str] = field(default_factory=list)  # ... stored after a failed first try
    dropped: list[str] = field(default_factory=list)  # refused for good (closed unit, ...)
    bugs: list[str] = field(default_factory=list)  # 409 action_id_reused: never retried
    ledger: Ledger | None = None
    owner: int = -1  # the candidate's slot in the ledger
    uncounted: int = 0  # the newest pending answers not yet counted as gone offline

    def __len__(self) -> int:
        return len(self.pending)

    def bind(self, ledger: Ledger, candidate_id: str, centre: str) -> None:
        self.ledger = ledger
        self.owner = ledger.candidate(candidate_id, centre)

    def add(self, unit_id: str, body: AnswerIn) -> None:
        self.pending.append(Pending(unit_id, body))
        self.uncounted += 1
        if self.ledger is not None:
            self.ledger.wait(self.owner, self)

    def _pop(self) -> Pending:
        item = self.pending.popleft()
        self.uncounted = min(self.uncounted, len(self.pending))
        if not self.pending and self.ledger is not None:
            self.ledger.wait(self.owner, None)
        return item

    def _waits(self, outcome: Flush) -> Flush:
        """The server could not take the rest: what was not counted yet went offline."""
        if self.uncounted and self.ledger is not None:
            self.ledger.went_offline(self.owner, self.uncounted)
        self.uncounted = 0
        return outcome

    def flush(self, stop: Callable[[], bool] = lambda: False) -> Flush:
        """Send what is queued, oldest first, until empty or the server cannot take more."""
        relogged = False
        while self.pending and not stop():
            item = self.pending[0]
            action_id = item.body.action_id
            try:
                result = self.send(item.unit_id, item.body)
            except Expected:
                return self._waits(Flush.PAUSED)
            except TabletFailure as exc:
                what = verdict(exc)
                if what is Verdict.RELOGIN and not relogged:
                    relogged = True
                    self.relogin()
                    continue
                if what is Verdict.REFUSED:
                    self._pop()
                    self.dropped.append(action_id)
                    continue
                if what is Verdict.BUG:
                    self._pop()
                    self.bugs.append(action_id)
                    continue
                item.tries += 1
                return self._waits(Flush.OFFLINE)
            self._pop()
            if self.ledger is not None:
                self.ledger.acked(self.owner, item.unit_id, item.body)
            self.stored.append(action_id)
            if result.duplicate:
                self.duplicates.append(action_id)
            if item.tries:
                self.resent.append(action_id)
        return Flush.EMPTY if not self.pending else Flush.OFFLINE
