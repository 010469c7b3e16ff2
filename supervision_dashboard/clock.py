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
# Centres whose jurors live on another clock: the exam runs on Paris time, but their
# procès-verbal and their screen also say the local time they see on the wall.
CENTRE_ZONES: dict[str, str] = {
    "REUNION": "Indian/Reunion",
    "ANTILLES": "America/Martinique",
}


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


@cache
def centre_zone(centre: str | None) -> dt.tzinfo | None:
    """The centre's own zone when it differs from the exam's, else None."""
    name = CENTRE_ZONES.get(centre or "")
    if name is None or name == os.environ.get(EXAM_TZ_ENV, DEFAULT_EXAM_TZ):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_clock(ts: object, centre: str | None) -> str:
    """The centre's wall-clock time (``01:52``) for an overseas centre, else empty."""
    zone = centre_zone(centre)
    if zone is None or not isinstance(ts, int | float):
        return ""
    return dt.datetime.fromtimestamp(float(ts), zone).strftime("%H:%M")


def stamp(ts: object, centre: str | None = None) -> str:
    """``01/12/2026 20:52:41 CET``, plus the local time of an overseas centre, for documents."""
    if not isinstance(ts, int | float):
        return ""
    local = _local(float(ts))
    text = local.strftime("%d/%m/%Y %H:%M:%S ") + (local.tzname() or "")
    there = local_clock(ts, centre)
    return f"{text} ({there} {centre_zone_label(centre)})" if there else text


def centre_zone_label(centre: str | None) -> str:
    return CENTRE_ZONES.get(centre or "", "").split("/")[-1].replace("_", " ")
