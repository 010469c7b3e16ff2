"""vigie / Load generator: the simulated tablet fleet (Locust) beside the exam server.

The generator's own CPU is on the board because a saturated generator, not the server,
would then set the figures.
"""

from __future__ import annotations

from dashboards.boards.queries import FLEET, FLEET_VAR, JOB_VAR, RATE, SRV, quantiles
from dashboards.builder import JSON, Query, Row, dashboard, stat, timeseries
from vigie.wire.metrics import Metric as M


def load_generator() -> JSON:
    load = Row(
        "Load generator against the server",
        [
            timeseries(
                "Simulated users, fleet sockets, server websockets",
                Query(f"sum({M.FLEET_USERS}{{{FLEET}}})", "fleet users"),
                Query(f"sum({M.FLEET_SOCKETS_OPEN}{{{FLEET}}})", "fleet sockets open"),
                Query(f"sum({M.WEBSOCKETS_OPEN}{{{SRV}}})", "server websockets open"),
                description="Users the fleet runs, sockets it holds, and what the server counts.",
                width=16,
            ),
            stat(
                "Current wave",
                Query(f"max({M.FLEET_WAVE}{{{FLEET}}})", "wave"),
                width=8,
                height=8,
            ),
            timeseries(
                "Heartbeat round trip (fleet) and event-loop lag (server)",
                *quantiles(M.FLEET_HEARTBEAT_RTT, FLEET, "", (0.5, 0.95, 0.99)),
                Query(
                    f"histogram_quantile(0.99, sum by (le) (rate(vigie_event_loop_lag_seconds_bucket{{{SRV}}}[{RATE}])))",
                    "server loop lag p99",
                ),
                unit="s",
                width=12,
            ),
            timeseries(
                "Requests by operation",
                Query(
                    f"sum by (name) (rate({M.FLEET_REQUESTS.total}{{{FLEET}}}[{RATE}]))",
                    "{{name}}",
                ),
                unit="ops",
                width=12,
            ),
            timeseries(
                "Failures by operation and kind",
                Query(
                    f"sum by (name, kind) (rate({M.FLEET_FAILURES.total}{{{FLEET}}}[{RATE}]))",
                    "{{name}} {{kind}}",
                ),
                description="kind is the FailureKind: connection_cap, refused, timeout, http_5xx...",
                unit="ops",
                width=12,
            ),
            timeseries(
                "Generator CPU by worker",
                Query(f"{M.FLEET_CPU}{{{FLEET}}}", "{{worker}}"),
                description=(
                    "Share of one core per Locust process. Above 90% the generator, not the"
                    " server, sets the figures: add workers."
                ),
                unit="percentunit",
                min=0,
                max=1,
                thresholds=[(0.9, "red")],
                width=12,
            ),
        ],
    )
    return dashboard(
        uid="vigie-load-generator",
        title="vigie / Load generator",
        description="The simulated tablet fleet (Locust) side by side with the exam server.",
        rows=[load],
        variables=[JOB_VAR, FLEET_VAR],
    )
