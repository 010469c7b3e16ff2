"""The fleet's metrics endpoint, scraped over HTTP like Prometheus would."""

import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from scenarios import load_scenario
from simulator.exporter import serve_metrics
from simulator.record import OpTally
from simulator.run.monitor import FleetMonitor
from vigie.testing import free_port


class FakeRunner:
    user_count = 25


def payload(sockets: int) -> dict[str, Any]:
    hb = OpTally()
    for ms in (2, 3, 40, 700):
        hb.record(ms)
    ws = OpTally()
    ws.record(5)
    ws.record(None, "connection_cap")
    return {
        "ops": {"heartbeat": hb.to_json(), "ws_connect": ws.to_json()},
        "sockets_open": sockets,
        "cpu": 0.25,
        "rss": 300 * 2**20,
    }


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_named_as_the_protocol_says() -> None:
    monitor = FleetMonitor(load_scenario("smoke"), "smoke", "http://127.0.0.1:9", FakeRunner())
    monitor.ingest("w0", payload(10))
    monitor.ingest("w1", payload(7))
    port = free_port()
    server = serve_metrics(monitor, port)
    try:
        m = scrape(port)
    finally:
        server.shutdown()
    assert m[("vigie_fleet_users", ())] == 25
    assert m[("vigie_fleet_sockets_open", ())] == 17
    assert m[("vigie_fleet_wave", ())] == 1
    assert m[("vigie_fleet_cpu_ratio", (("worker", "w0"),))] == 0.25
    assert m[("vigie_fleet_resident_memory_bytes", (("worker", "w1"),))] == 300 * 2**20
    assert m[("vigie_fleet_requests_total", (("name", "heartbeat"),))] == 8
    assert m[("vigie_fleet_requests_total", (("name", "ws_connect"),))] == 4
    assert (
        m[("vigie_fleet_failures_total", (("kind", "connection_cap"), ("name", "ws_connect")))] == 2
    )
    assert m[("vigie_fleet_heartbeat_rtt_seconds_count", ())] == 8
    assert m[("vigie_fleet_heartbeat_rtt_seconds_bucket", (("le", "0.005"),))] == 4
    assert m[("vigie_fleet_heartbeat_rtt_seconds_bucket", (("le", "0.5"),))] == 6


def test_monitor_samples_and_tallies_by_wave() -> None:
    monitor = FleetMonitor(load_scenario("smoke"), "smoke", "http://127.0.0.1:9", FakeRunner())
    monitor.ingest("w0", payload(10))
    sample = monitor.take_sample()
    assert sample.sockets_open == 10 and sample.users == 25 and sample.wave == 1
    assert sample.requests == {"heartbeat": 4, "ws_connect": 2}
    assert sample.failures == {"connection_cap": 1}
    assert sample.hb_p99_ms == 700
    assert monitor.record.waves[0].ops["heartbeat"].count == 4
    record = monitor.finish()
    assert record.ended_at is not None and "generator_cpu_max" not in record.slos
    assert [w.ended_at is not None for w in record.waves] == [True, True]
