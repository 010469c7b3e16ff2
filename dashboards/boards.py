"""The four vigie dashboards, as data: what an SRE watches during a load test or on exam day.

Metric names are the ones in docs/protocol.md. Panels never break a series down by
candidate (there is no such label): the per-candidate view is the jury's Dash board.
"""

from __future__ import annotations

from dashboards.builder import (
    JSON,
    Query,
    Row,
    bargauge,
    dashboard,
    gauge,
    query_variable,
    stat,
    timeseries,
)
from vigie.wire.metrics import Metric as M

SRV = 'job=~"$job"'
FLEET = 'job=~"$fleet_job"'
RATE = "$__rate_interval"

JOB_VAR = query_variable("job", "Exam server job", f"label_values({M.CONNECTION_CAP}, job)")
FLEET_VAR = query_variable("fleet_job", "Load generator job", f"label_values({M.FLEET_USERS}, job)")
CENTRE_VAR = query_variable(
    "centre", "Centre", f'label_values({M.WEBSOCKETS_OPEN}{{job=~"$job"}}, centre)'
)


def _quantiles(
    metric: str, selector: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.99)
) -> list[Query]:
    """histogram_quantile queries, one per quantile, optionally split by labels in ``by``."""
    group = f"{by}, le" if by else "le"
    prefix = f"{{{{{by}}}}} " if by else ""
    return [
        Query(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[{RATE}])))",
            f"{prefix}p{round(q * 100)}",
        )
        for q in qs
    ]


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
                *_quantiles(M.HTTP_DURATION, SRV, "route", (0.99,)),
                unit="s",
                width=12,
            ),
            timeseries(
                "Request duration, all routes",
                *_quantiles(M.HTTP_DURATION, SRV, "", (0.5, 0.9, 0.99)),
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


def saturation() -> JSON:
    open_ws = f"sum without (centre) ({M.WEBSOCKETS_OPEN}{{{SRV}}})"
    cap = f"{M.CONNECTION_CAP}{{{SRV}}} > 0"
    conns = Row(
        "Connections against the cap",
        [
            timeseries(
                "Open websockets, cap, and 5-minute forecast",
                Query(open_ws, "open {{instance}}"),
                Query(cap, "cap {{instance}}"),
                Query(
                    f"predict_linear(vigie:websockets_open:sum{{{SRV}}}[5m], 300)",
                    "in 5 min {{instance}}",
                ),
                description=(
                    "The forecast is the ConnectionCapWillBeHit alert: a straight line through"
                    " the last 5 minutes, 5 minutes ahead (reads the mixin's recording rules)."
                ),
                width=16,
            ),
            gauge(
                "Share of the cap in use",
                Query(f"{open_ws} / on (instance, job) ({cap})", "{{instance}}"),
                unit="percentunit",
                min=0,
                max=1,
                thresholds=[(0.8, "orange"), (0.95, "red")],
                width=8,
            ),
        ],
    )
    process = Row(
        "Process: file descriptors, CPU, memory",
        [
            timeseries(
                "File descriptors",
                Query(f"process_open_fds{{{SRV}}}", "open {{instance}}"),
                Query(f"process_max_fds{{{SRV}}}", "max {{instance}}"),
                description="Each websocket holds one fd: the fd limit is a hidden connection cap.",
            ),
            timeseries(
                "CPU (share of one core)",
                Query(f"rate(process_cpu_seconds_total{{{SRV}}}[{RATE}])", "{{instance}}"),
                description="The server is one asyncio process: 100% of one core is saturation.",
                unit="percentunit",
                thresholds=[(0.8, "orange"), (0.95, "red")],
            ),
            timeseries(
                "Resident memory",
                Query(f"process_resident_memory_bytes{{{SRV}}}", "{{instance}}"),
                description="A compressing websocket costs ~116 KiB, a plain one ~18 KiB.",
                unit="bytes",
            ),
        ],
    )
    latency = Row(
        "Event loop and commits",
        [
            timeseries(
                "Event-loop lag",
                *_quantiles(M.LOOP_LAG, SRV, "", (0.5, 0.99)),
                description="Every handler and heartbeat waits this long before it even starts.",
                unit="s",
                thresholds=[(0.1, "orange"), (0.5, "red")],
                width=8,
            ),
            timeseries(
                "Garbage-collector pauses",
                *_quantiles(M.GC_PAUSE, SRV, "generation", (0.99,)),
                description=(
                    "The loop stands still while the collector runs. A full collection (2)"
                    " walks every live object: ~1 s at 9,800 tablets unless what survived is"
                    " frozen (gc_freeze_every_s)."
                ),
                unit="s",
                thresholds=[(0.05, "orange"), (0.25, "red")],
                width=8,
            ),
            timeseries(
                "Answer commit latency",
                *_quantiles(M.ANSWER_COMMIT, SRV, "", (0.5, 0.99)),
                description="Time to make an answer durable before the 200 (SQLite commit).",
                unit="s",
                thresholds=[(0.25, "orange"), (1, "red")],
                width=8,
            ),
        ],
    )
    writer = Row(
        "Database writer (a stall: 2023, the first EDN)",
        [
            timeseries(
                "Oldest write waiting for its commit",
                Query(f"{M.WRITER_OLDEST}{{{SRV}}}", "{{instance}}"),
                description=(
                    "Age of the oldest answer or jury action not yet on disk: a few ms when"
                    " healthy. Past 10 s the DatabaseStall alert pages."
                ),
                unit="s",
                min=0,
                thresholds=[(1, "orange"), (10, "red")],
            ),
            timeseries(
                "Writes waiting",
                Query(f"{M.WRITER_QUEUE}{{{SRV}}}", "{{instance}}"),
                description="Queued writes; growing while nothing commits is a stall.",
                min=0,
                thresholds=[(20, "orange")],
            ),
            timeseries(
                "Answers committed per second",
                Query(
                    f"sum by (instance) (rate({M.ANSWER_COMMIT}_count{{{SRV}}}[{RATE}]))",
                    "{{instance}}",
                ),
                description=(
                    "0 while writes wait: AnswerCommitsStopped (also a writer that died,"
                    " whose oldest write reads 0)."
                ),
                unit="ops",
                min=0,
            ),
        ],
    )
    return dashboard(
        uid="vigie-saturation",
        title="vigie / Saturation",
        description="How close the exam server is to a limit: connection cap, fds, CPU, loop lag, commits, the database writer.",
        rows=[conns, process, latency, writer],
        variables=[JOB_VAR],
    )


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
                *_quantiles(M.FLEET_HEARTBEAT_RTT, FLEET, "", (0.5, 0.95, 0.99)),
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


def all_dashboards() -> dict[str, JSON]:
    """File name (in mixin/dashboards/) -> dashboard JSON."""
    boards = [exam_server_red(), saturation(), tablets_by_centre(), load_generator()]
    return {f"{board['uid']}.json": board for board in boards}
