"""Supervision bookkeeping kept up to date at each change, so that reads never scan.

12,000 candidates, a dashboard polling the change feed every second, per-centre
jurors doing the same, and a sweeper every second: anything that walks every
candidate on those paths costs tens of milliseconds of event loop that tablets'
heartbeats wait behind. So:

* :class:`StateCounts` moves one unit from a state to another at each transition;
* :class:`ChangeLog` keeps candidates ordered by the version of their last visible
  change, so "changed since cursor" walks back from the newest only as far as needed;
* :class:`HeardOrder` keeps connected candidates ordered by their last heartbeat, so
  the sweeper looks only at the ones old enough to be late.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from vigie.protocol import CandidateState

from .state import Cand

STATES = tuple(s.value for s in CandidateState)


def _zero() -> dict[str, int]:
    return dict.fromkeys(STATES, 0)


class StateCounts:
    """Candidates per supervision state, national and per centre."""

    def __init__(self) -> None:
        self.national = _zero()
        # Only centres with candidates appear, as the jury's documents always showed.
        self.centres: dict[str, dict[str, int]] = {}

    def add(self, c: Cand) -> None:
        per = self.centres.get(c.centre)
        if per is None:
            per = self.centres[c.centre] = _zero()
        self.national[c.state.value] += 1
        per[c.state.value] += 1

    def move(self, centre: str, old: CandidateState, new: CandidateState) -> None:
        per = self.centres[centre]
        self.national[old.value] -= 1
        self.national[new.value] += 1
        per[old.value] -= 1
        per[new.value] += 1

    def doc(self, centre: str | None) -> dict[str, Any]:
        """The ``counts`` member of a snapshot or change feed (a centre's view: its own only)."""
        if centre is None:
            return {
                "national": dict(self.national),
                "centres": {code: dict(per) for code, per in self.centres.items()},
            }
        per = self.centres.get(centre)
        if per is None:
            return {"national": _zero(), "centres": {}}
        return {"national": dict(per), "centres": {centre: dict(per)}}


def recount(cands: Iterable[Cand]) -> dict[str, Any]:
    """The counts by a full scan: the reference the incremental counts must always equal."""
    counts = StateCounts()
    for c in cands:
        counts.add(c)
    return counts.doc(None)


class ChangeLog:
    """Candidates by the version of their last visible change, national and per centre.

    Each candidate appears once (its latest change), so the log is bounded by the
    roster and any cursor of this run can be answered exactly.
    """

    def __init__(self) -> None:
        self._all: OrderedDict[str, Cand] = OrderedDict()
        self._by_centre: dict[str, OrderedDict[str, Cand]] = {}

    def touch(self, c: Cand) -> None:
        """Call after raising ``c.version`` above every version already logged."""
        for log in (self._all, self._by_centre.setdefault(c.centre, OrderedDict())):
            log[c.id] = c
            log.move_to_end(c.id)

    def since(self, cursor: int, centre: str | None = None) -> list[Cand]:
        """Candidates whose version is above ``cursor``, oldest change first."""
        log = self._all if centre is None else self._by_centre.get(centre)
        if not log:
            return []
        out: list[Cand] = []
        for c in reversed(log.values()):
            if c.version <= cursor:
                break
            out.append(c)
        out.reverse()
        return out


class HeardOrder:
    """Connected candidates, least recently heard first.

    A heartbeat moves its candidate to the end, so the front holds the only
    candidates that can have gone late or lost. Order follows arrival; should the
    wall clock step back, a candidate is judged at most that step later.
    """

    def __init__(self) -> None:
        self._order: OrderedDict[str, Cand] = OrderedDict()

    def __len__(self) -> int:
        return len(self._order)

    def heard(self, c: Cand) -> None:
        order = self._order
        if c.id in order:
            order.move_to_end(c.id)
        else:
            order[c.id] = c

    def forget(self, c: Cand) -> None:
        self._order.pop(c.id, None)

    def silent_for(self, seconds: float, now: float) -> Iterator[Cand]:
        """Candidates last heard more than ``seconds`` before ``now``, oldest first.

        Yields from a copy of the stale prefix: the caller may close sockets meanwhile.
        """
        stale: list[Cand] = []
        for c in self._order.values():
            last = c.last_hb
            if last is not None and now - last <= seconds:
                break
            stale.append(c)
        return iter(stale)
