"""The four vigie dashboards, as data: what an SRE watches during a load test or on exam day.

Metric names are the ones in docs/protocol.md. Panels never break a series down by
candidate (there is no such label): the per-candidate view is the jury's Dash board.
"""

from __future__ import annotations

from dashboards.boards.centres import tablets_by_centre
from dashboards.boards.fleet import load_generator
from dashboards.boards.limits import saturation
from dashboards.boards.queries import CENTRE_VAR, FLEET, FLEET_VAR, JOB_VAR, RATE, SRV
from dashboards.boards.red import exam_server_red
from dashboards.builder import JSON

__all__ = [
    "CENTRE_VAR",
    "FLEET",
    "FLEET_VAR",
    "JOB_VAR",
    "RATE",
    "SRV",
    "all_dashboards",
    "exam_server_red",
    "load_generator",
    "saturation",
    "tablets_by_centre",
]


def all_dashboards() -> dict[str, JSON]:
    """File name (in mixin/dashboards/) -> dashboard JSON."""
    boards = [exam_server_red(), saturation(), tablets_by_centre(), load_generator()]
    return {f"{board['uid']}.json": board for board in boards}
