"""The fleet's Prometheus metrics (names in docs/protocol.md), served by the master.

A custom collector reads the :class:`~simulator.run.monitor.FleetMonitor` at scrape time
rather than updating client objects per operation: the master merges thousands of
heartbeats a second and a scrape every 15 s needs only the totals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from simulator.cli.common import DEFAULT_METRICS_PORT
from simulator.record import OP_HEARTBEAT
from vigie.wire.metrics import Metric as M

__all__ = ["DEFAULT_METRICS_PORT", "FleetCollector", "serve_metrics"]

if TYPE_CHECKING:
    from simulator.run.monitor import FleetMonitor

# Heartbeat RTT buckets, seconds: a healthy loopback round trip is a few ms, the SLO ~1 s.
_RTT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class FleetCollector(Collector):
    def __init__(self, monitor: FleetMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        m = self.monitor
        users = GaugeMetricFamily(M.FLEET_USERS, "Locust users (tablets started).")
        users.add_metric([], float(getattr(m.runner, "user_count", 0)))
        yield users
        sockets = GaugeMetricFamily(M.FLEET_SOCKETS_OPEN, "Open tablet websockets.")
        sockets.add_metric([], float(m.sockets_open()))
        yield sockets
        wave = GaugeMetricFamily(M.FLEET_WAVE, "Current wave number (0 before the first).")
        wave.add_metric([], float(m.current_wave()))
        yield wave
        cpu = GaugeMetricFamily(
            M.FLEET_CPU,
            "Generator process CPU, fraction of one core.",
            labels=["worker"],
        )
        memory = GaugeMetricFamily(
            M.FLEET_MEMORY, "Generator process resident memory.", labels=["worker"]
        )
        for name, report in sorted(m.workers.items()):
            cpu.add_metric([name], float(report["cpu"]))
            if report.get("rss") is not None:
                memory.add_metric([name], float(report["rss"]))
        yield cpu
        yield memory
        reqs = CounterMetricFamily(
            M.FLEET_REQUESTS, "Tablet operations, failed ones included.", labels=["name"]
        )
        fails = CounterMetricFamily(
            M.FLEET_FAILURES, "Failed tablet operations by kind.", labels=["name", "kind"]
        )
        for name, tally in sorted(m.totals.items()):
            reqs.add_metric([name], float(tally.count))
            for kind, n in sorted(tally.failures.items()):
                fails.add_metric([name, kind], float(n))
        yield reqs
        yield fails
        yield _rtt_histogram(
            m.totals[OP_HEARTBEAT].latency.buckets if OP_HEARTBEAT in m.totals else {}
        )


def _rtt_histogram(buckets_ms: dict[int, int]) -> HistogramMetricFamily:
    cumulative: list[tuple[str, float]] = []
    total_sum = sum(ms / 1000.0 * n for ms, n in buckets_ms.items())
    for le in _RTT_BUCKETS:
        cumulative.append(
            (repr(le), float(sum(n for ms, n in buckets_ms.items() if ms / 1000.0 <= le)))
        )
    cumulative.append(("+Inf", float(sum(buckets_ms.values()))))
    family = HistogramMetricFamily(
        M.FLEET_HEARTBEAT_RTT, "Heartbeat round trip seen by the tablets."
    )
    family.add_metric([], cumulative, sum_value=total_sum)
    return family


def serve_metrics(monitor: FleetMonitor, port: int, addr: str = "127.0.0.1") -> Any:
    """Serve the fleet metrics on ``addr:port``; returns the server (``.shutdown()`` it)."""
    registry = CollectorRegistry()
    registry.register(FleetCollector(monitor))
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return server
