"""vigie / Exam server (RED): rate, errors and duration of HTTP by route, and websockets."""

from __future__ import annotations

from dashboards.boards.queries import JOB_VAR, RATE, SRV, quantiles
from dashboards.builder import JSON, Query, Row, dashboard, stat, timeseries
from vigie.wire.metrics import Metric as M


def exam_server_red() -> JSON:
    http = Row(
        "HTTP: rate, errors, duration",
        [
            timeseries(
                "Requests by route",
                Query(
                    f"sum by (route) (rate({M.HTTP_REQUESTS.total}{{{SRV}}}[{RATE}]))",
                    "{{route}}",
                ),
                unit="reqps",
                width=12,
            ),
            timeseries(
                "Responses by status",
                Query(
                    f"sum by (status) (rate({M.HTTP_REQUESTS.total}{{{SRV}}}[{RATE}]))",
                    "{{status}}",
                ),
                unit="reqps",
                stacked=True,
                width=12,
            ),
            timeseries(
                "Errors by route and code",
                Query(
                    f"sum by (route, code) (rate({M.HTTP_ERRORS.total}{{{SRV}}}[{RATE}]))",
                    "{{route}} {{code}}",
                ),
                description="Every 4xx/503 carries an ErrorCode: this is the machine-readable why.",
                unit="reqps",
                width=12,
            ),
            timeseries(
                "Share of 5xx responses",
                Query(
                    f'(sum(rate({M.HTTP_REQUESTS.total}{{{SRV}, status=~"5.."}}[{RATE}])) or vector(0))'
                    f" / sum(rate({M.HTTP_REQUESTS.total}{{{SRV}}}[{RATE}]))",
                    "5xx share",
                ),
                description="503s come from the connection cap and the fault-injection knob.",
                unit="percentunit",
                min=0,
                thresholds=[(0.01, "orange"), (0.05, "red")],
                width=12,
            ),
            timeseries(
                "Request duration p99 by route",
                *quantiles(M.HTTP_DURATION, SRV, "route", (0.99,)),
                unit="s",
                width=12,
            ),
            timeseries(
                "Request duration, all routes",
                *quantiles(M.HTTP_DURATION, SRV, "", (0.5, 0.9, 0.99)),
                unit="s",
                width=12,
            ),
        ],
    )
    ws = Row(
        "Websocket: connects, rejections, disconnects, heartbeats",
        [
            timeseries(
                "Connects and heartbeats",
                Query(f"sum(rate({M.WEBSOCKET_CONNECTS.total}{{{SRV}}}[{RATE}]))", "connects"),
                Query(f"sum(rate({M.HEARTBEATS.total}{{{SRV}}}[{RATE}]))", "heartbeats"),
                unit="ops",
            ),
            timeseries(
                "Rejected upgrades by reason",
                Query(
                    f"sum by (reason) (rate({M.WEBSOCKET_REJECTIONS.total}{{{SRV}}}[{RATE}]))",
                    "{{reason}}",
                ),
                description="connection_cap here is what stopped wave 4 on 21 January 2022.",
                unit="ops",
            ),
            timeseries(
                "Disconnects by reason",
                Query(
                    f"sum by (reason) (rate({M.WEBSOCKET_DISCONNECTS.total}{{{SRV}}}[{RATE}]))",
                    "{{reason}}",
                ),
                description="heartbeat_timeout and network are tablets lost mid-unit.",
                unit="ops",
                stacked=True,
            ),
            timeseries(
                "Answers by result",
                Query(f"sum by (result) (rate({M.ANSWERS.total}{{{SRV}}}[{RATE}]))", "{{result}}"),
                description="duplicate: a tablet re-sent an answer after a reconnect (idempotent).",
                unit="ops",
                stacked=True,
            ),
            timeseries(
                "Fraud alerts",
                Query(f"sum(increase({M.FRAUD_ALERTS.total}{{{SRV}}}[{RATE}]))", "fraud alerts"),
                unit="short",
            ),
            stat(
                "Open websockets",
                Query(f"sum({M.WEBSOCKETS_OPEN}{{{SRV}}})", "open"),
                width=8,
                height=8,
            ),
        ],
    )
    return dashboard(
        uid="vigie-exam-server-red",
        title="vigie / Exam server (RED)",
        description="Rate, errors and duration of the exam server: HTTP by route, and websockets.",
        rows=[http, ws],
        variables=[JOB_VAR],
    )
