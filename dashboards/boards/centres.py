"""vigie / Tablets by centre: connected tablets, centre incidents, supervision states.

Per centre because a centre's network fails on its own: one centre's drop against the
others' is what tells a local outage from a national one.
"""

from __future__ import annotations

from dashboards.boards.queries import CENTRE_VAR, JOB_VAR, RATE, SRV
from dashboards.builder import JSON, Query, Row, bargauge, dashboard, stat, timeseries
from vigie.wire.metrics import Metric as M


def tablets_by_centre() -> JSON:
    by_centre = f'{SRV}, centre=~"$centre"'
    centres = Row(
        "Tablets by centre",
        [
            bargauge(
                "Open websockets per centre",
                Query(
                    f"sort_desc(sum by (centre) ({M.WEBSOCKETS_OPEN}{{{by_centre}}}))",
                    "{{centre}}",
                    instant=True,
                ),
                description="A centre whose bar drops while others hold is a local network problem.",
                width=12,
                height=16,
            ),
            timeseries(
                "Open websockets per centre over time",
                Query(f"sum by (centre) ({M.WEBSOCKETS_OPEN}{{{by_centre}}})", "{{centre}}"),
                width=12,
                height=16,
                stacked=True,
            ),
        ],
    )
    incidents = Row(
        "Centre incidents: disconnects, reconnect loops, planned extra time",
        [
            timeseries(
                "Share of each centre's tablets gone (against its 15-minute peak)",
                Query(f"vigie:websockets_open:drop_ratio15m{{{by_centre}}}", "{{centre}}"),
                description=(
                    "One centre high while the others stay low is its network (a centre"
                    " outage): CentreMassDisconnect pages above 30% and 10 tablets. All"
                    " together is the national close or the server."
                ),
                unit="percentunit",
                min=0,
                max=1,
                thresholds=[(0.3, "red")],
                width=12,
            ),
            timeseries(
                "Reconnects per tablet in 5 minutes, by centre",
                Query(
                    f"vigie:websocket_reconnects:increase5m{{{by_centre}}}"
                    f" / vigie:websockets_open:peak15m{{{by_centre}}}",
                    "{{centre}}",
                ),
                description=(
                    "A tablet back on a new socket during a unit. One each is a restart;"
                    " above 1.5, held 2 minutes, is a reconnect loop (Lyon Sud, 2025):"
                    " ReconnectLoop."
                ),
                min=0,
                thresholds=[(1.5, "red")],
                width=12,
            ),
            timeseries(
                "Reconnects per minute, by centre",
                Query(
                    f"sum by (centre) (rate({M.WEBSOCKET_RECONNECTS.total}{{{by_centre}}}[{RATE}])) * 60",
                    "{{centre}}",
                ),
                unit="short",
                stacked=True,
                width=12,
            ),
            bargauge(
                "Candidates without their planned extra time, by centre",
                Query(
                    f"sort_desc(sum by (centre) ({M.PLANNED_EXTRA_MISSING}{{{by_centre}}}))",
                    "{{centre}}",
                    instant=True,
                ),
                description=(
                    "A deadline that does not include the roster's tiers-temps (2019: all"
                    " 9,336 candidates re-sat a test). Anything above 0 pages:"
                    " PlannedExtraTimeMissing."
                ),
                thresholds=[(1, "red")],
                width=12,
            ),
        ],
    )
    states = Row(
        "Candidates by supervision state (national)",
        [
            timeseries(
                "Candidates by state",
                Query(f"sum by (state) ({M.CANDIDATES}{{{SRV}}})", "{{state}}"),
                width=12,
                stacked=True,
            ),
            stat(
                "Incidents (late + lost)",
                Query(f'sum({M.CANDIDATES}{{{SRV}, state=~"late|lost"}})', "incidents"),
                thresholds=[(1, "orange"), (50, "red")],
                width=6,
                height=8,
            ),
            stat(
                "Heartbeats per second",
                Query(f"sum(rate({M.HEARTBEATS.total}{{{SRV}}}[{RATE}]))", "heartbeats/s"),
                unit="ops",
                width=6,
                height=8,
            ),
        ],
    )
    return dashboard(
        uid="vigie-tablets-by-centre",
        title="vigie / Tablets by centre",
        description="Connected tablets per exam centre, centre incidents, and candidates per supervision state.",
        rows=[centres, incidents, states],
        variables=[JOB_VAR, CENTRE_VAR],
    )
