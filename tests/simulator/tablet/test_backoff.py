"""The tablet's one retry helper: bounds, jitter, Retry-After, stop conditions."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from simulator.tablet.backoff import RETRY_AFTER_MAX_S, Backoff, Pacer, parse_retry_after


class FakeTime:
    """A clock that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.naps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def pacer(base: float = 1.0, cap: float = 30.0, seed: int = 1) -> tuple[Pacer, FakeTime]:
    t = FakeTime()
    return Pacer(Backoff(base, cap), sleep=t.sleep, clock=t.clock, rng=random.Random(seed)), t


def test_ceiling_doubles_then_caps() -> None:
    b = Backoff(0.5, 10.0)
    assert [b.ceiling(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert b.ceiling(10_000) == 10.0  # no overflow for a tablet that retried all day


def test_delay_is_full_jitter_under_the_ceiling() -> None:
    b = Backoff(1.0, 30.0)
    rng = random.Random(7)
    for attempt in range(12):
        delays = [b.delay(attempt, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= b.ceiling(attempt) for d in delays)
        # spread, not lockstep: a fleet told the same thing does not retry at one instant
        assert max(delays) - min(delays) > b.ceiling(attempt) / 2


def test_retry_after_is_honoured_and_still_spread() -> None:
    b = Backoff(1.0, 30.0)
    rng = random.Random(3)
    delays = [b.delay(0, retry_after=5.0, rng=rng) for _ in range(200)]
    assert all(5.0 <= d <= 6.0 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100
    # a server asking for an hour gets the bound, not an hour
    assert b.delay(0, retry_after=3600.0, rng=rng) <= RETRY_AFTER_MAX_S + 1.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("100000", RETRY_AFTER_MAX_S),
        ("soon", None),
        ("", None),
        ("nan", None),
        (None, None),
    ],
)
def test_parse_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=1_000.0) == seconds


def test_parse_retry_after_http_date() -> None:
    now = datetime(2026, 1, 21, 8, 0, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2026, 1, 21, 8, 0, 30, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(later, now) == pytest.approx(30.0)
    earlier = format_datetime(datetime(2026, 1, 21, 7, 0, 0, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(earlier, now) == 0.0


def test_attempts_stop_after_max_attempts() -> None:
    p, t = pacer()
    tries = [a.number for a in p.attempts(max_attempts=4)]
    assert tries == [0, 1, 2, 3]
    assert len(t.naps) == 3  # no nap after the last try


def test_attempts_are_bounded_in_time() -> None:
    p, t = pacer(base=1.0, cap=4.0)
    tries = sum(1 for _ in p.attempts(max_elapsed_s=20.0))
    assert tries >= 3
    assert t.now - 100.0 <= 20.0  # never slept past the bound


def test_attempts_end_when_stop_says_so() -> None:
    p, _ = pacer()
    seen: list[int] = []
    for attempt in p.attempts(stop=lambda: len(seen) >= 3):
        seen.append(attempt.number)
    assert seen == [0, 1, 2]


def test_the_body_leaving_the_loop_ends_it_without_a_nap() -> None:
    p, t = pacer()
    for attempt in p.attempts():
        if attempt.number == 2:
            break
    assert len(t.naps) == 2


def test_retry_after_set_by_the_body_sets_the_next_nap() -> None:
    p, t = pacer(base=0.1, cap=0.1)
    for attempt in p.attempts(max_attempts=3):
        attempt.retry_after = 5.0 if attempt.number == 0 else None
    assert 5.0 <= t.naps[0] <= 5.1
    assert t.naps[1] <= 0.1


def test_delay_first_waits_before_the_first_try() -> None:
    p, t = pacer(base=2.0, cap=2.0)
    first = next(iter(p.attempts(delay_first=True)))
    assert first.number == 0
    assert len(t.naps) == 1 and 0.0 <= t.naps[0] <= 2.0


def test_backoff_grows_between_attempts() -> None:
    p, t = pacer(base=1.0, cap=1000.0, seed=5)
    for _ in p.attempts(max_attempts=9):
        pass
    for n, nap in enumerate(t.naps):
        assert nap <= 2.0**n
    assert max(t.naps[5:]) > 2.0  # later naps reach past what the first ones could
