"""The one retry helper of a tablet: exponential backoff with full jitter, bounded.

Every loop that retries an operation (login, package, key, question, finish, the
websocket's connect and reconnect) iterates :meth:`Pacer.attempts`::

    for attempt in pacer.attempts(stop=lambda: tablet.stopping):
        try:
            return call()
        except HttpFailure as exc:
            attempt.retry_after = exc.retry_after  # a 503's Retry-After is honoured

Between two attempts it sleeps ``uniform(0, min(cap, base * 2**n))`` (full jitter, AWS
architecture blog: a reconnecting fleet spreads instead of knocking in lockstep), or,
when the server said ``Retry-After``, that long plus the jitter (at least what the server
asked for, and still spread). It stops when ``stop()`` is true, after ``max_attempts`` or
once ``max_elapsed_s`` would be exceeded. Sleep, clock and randomness are injected, so
tests drive it without waiting; on a tablet they are gevent's.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

#: A server asking for more than this is treated as asking for this (a fleet must not
#: park for an hour on a misconfigured header).
RETRY_AFTER_MAX_S = 300.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date,
    RFC 9110 §10.2.3), clamped to ``[0, RETRY_AFTER_MAX_S]``; None when absent or garbled."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter: ``base_s * 2**attempt`` capped at ``cap_s``."""

    base_s: float
    cap_s: float

    def ceiling(self, attempt: int) -> float:
        return min(self.cap_s, self.base_s * 2.0 ** min(attempt, 30))

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        jitter = (rng or _rng).uniform(0.0, self.ceiling(attempt))
        if retry_after is None:
            return jitter
        return min(max(retry_after, 0.0), RETRY_AFTER_MAX_S) + jitter


_rng = random.Random()


@dataclass(slots=True)
class Attempt:
    """One try; the loop body may set what the next delay must honour."""

    number: int  # 0 for the first try
    retry_after: float | None = None  # the server's Retry-After for the next try


@dataclass(slots=True)
class Pacer:
    """Runs retry loops under one :class:`Backoff`, with an injectable sleep and clock."""

    backoff: Backoff
    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=lambda: _rng)  # shared: 2.5 KiB each

    def attempts(
        self,
        *,
        stop: Callable[[], bool] = lambda: False,
        max_attempts: int | None = None,
        max_elapsed_s: float | None = None,
        delay_first: bool = False,
    ) -> Iterator[Attempt]:
        """Yield attempts until the body leaves the loop, ``stop()`` is true, or a bound
        is reached (``max_attempts`` tries, or a next try that would start after
        ``max_elapsed_s``). ``delay_first`` waits before the first try too (a reconnect
        after a drop)."""
        start = self.clock()
        number = 0
        offset = 1 if delay_first else 0  # the first wait used step 0 of the backoff
        if delay_first and not self._nap(
            start, self.backoff.delay(0, None, self.rng), max_elapsed_s
        ):
            return
        while not stop():
            attempt = Attempt(number)
            yield attempt
            number += 1
            if max_attempts is not None and number >= max_attempts:
                return
            delay = self.backoff.delay(number - 1 + offset, attempt.retry_after, self.rng)
            if not self._nap(start, delay, max_elapsed_s):
                return

    def _nap(self, start: float, delay: float, max_elapsed_s: float | None) -> bool:
        if max_elapsed_s is not None and self.clock() + delay - start > max_elapsed_s:
            return False
        self.sleep(delay)
        return True
