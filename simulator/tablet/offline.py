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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from simulator.settings import TabletFailure
from vigie.wire.http import AnswerIn, AnswerResult

from .failures import Expected, Verdict, verdict


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

    def __len__(self) -> int:
        return len(self.pending)

    def add(self, unit_id: str, body: AnswerIn) -> None:
        self.pending.append(Pending(unit_id, body))

    def flush(self, stop: Callable[[], bool] = lambda: False) -> Flush:
        """Send what is queued, oldest first, until empty or the server cannot take more."""
        relogged = False
        while self.pending and not stop():
            item = self.pending[0]
            action_id = item.body.action_id
            try:
                result = self.send(item.unit_id, item.body)
            except Expected:
                return Flush.PAUSED
            except TabletFailure as exc:
                what = verdict(exc)
                if what is Verdict.RELOGIN and not relogged:
                    relogged = True
                    self.relogin()
                    continue
                if what is Verdict.REFUSED:
                    self.pending.popleft()
                    self.dropped.append(action_id)
                    continue
                if what is Verdict.BUG:
                    self.pending.popleft()
                    self.bugs.append(action_id)
                    continue
                item.tries += 1
                return Flush.OFFLINE
            self.pending.popleft()
            self.stored.append(action_id)
            if result.duplicate:
                self.duplicates.append(action_id)
            if item.tries:
                self.resent.append(action_id)
        return Flush.EMPTY if not self.pending else Flush.OFFLINE
