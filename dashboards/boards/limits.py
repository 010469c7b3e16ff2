"""vigie / Saturation: how close the exam server is to a limit.

Connection cap (with the forecast the ConnectionCapWillBeHit alert reads), fds, CPU,
memory, event-loop lag, garbage-collector pauses, commits and the database writer.
"""

from __future__ import annotations

from dashboards.boards.queries import JOB_VAR, RATE, SRV, quantiles
from dashboards.builder import JSON, Query, Row, dashboard, gauge, timeseries
from vigie.wire.metrics import Metric as M


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
                *quantiles(M.LOOP_LAG, SRV, "", (0.5, 0.99)),
                description="Every handler and heartbeat waits this long before it even starts.",
                unit="s",
                thresholds=[(0.1, "orange"), (0.5, "red")],
                width=8,
            ),
            timeseries(
                "Garbage-collector pauses",
                *quantiles(M.GC_PAUSE, SRV, "generation", (0.99,)),
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
                *quantiles(M.ANSWER_COMMIT, SRV, "", (0.5, 0.99)),
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
