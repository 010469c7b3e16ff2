"""Times as the jury reads them: one zone for the whole exam, the same on screen and on paper.

The dashboard host's own zone is irrelevant (it may be a UTC server); the exam runs
on Paris time. ``VIGIE_EXAM_TZ`` overrides it for an exam held elsewhere.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_EXAM_TZ = "Europe/Paris"
EXAM_TZ_ENV = "VIGIE_EXAM_TZ"


@cache
def exam_zone() -> dt.tzinfo:
    name = os.environ.get(EXAM_TZ_ENV, DEFAULT_EXAM_TZ)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC  # a wrong setting must not take the view down


def _local(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, exam_zone())


def clock(ts: object) -> str:
    """``20:52:41``; empty for no time."""
    if not isinstance(ts, int | float):
        return ""
    return _local(float(ts)).strftime("%H:%M:%S")


def clock_ms(ts: object) -> str:
    if not isinstance(ts, int | float):
        return ""
    return _local(float(ts)).strftime("%H:%M:%S.%f")[:-3]


def stamp(ts: object) -> str:
    """``01/12/2026 20:52:41 (Europe/Paris)``-like, for documents."""
    if not isinstance(ts, int | float):
        return ""
    local = _local(float(ts))
    return local.strftime("%d/%m/%Y %H:%M:%S ") + (local.tzname() or "")
