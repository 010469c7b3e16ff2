"""The server side of a sample, from the exposition of the exam server's own metrics."""

from prometheus_client import generate_latest

from exam_server_stub.metrics import Metrics
from simulator.run.scrape import parse_metrics, scrape_server
from vigie.protocol import ANSWER_ROUTE


def exposition(m: Metrics) -> str:
    return generate_latest(m.registry).decode()


def test_figures_from_the_server_registry() -> None:
    m = Metrics()
    m.ws_open.labels("AMIENS").set(30)
    m.ws_open.labels("BREST").set(12)
    m.connection_cap.set(40)
    m.ws_rejections.labels("connection_cap").inc(5)
    m.ws_rejections.labels("unauthenticated").inc(2)
    m.http_requests.labels("/api/v1/login", "POST", "200").inc(10)
    m.http_requests.labels("/api/v1/login", "POST", "503").inc(3)
    m.heartbeats.inc(7)
    m.http_duration.labels("/api/v1/login", "POST").observe(0.002)
    m.http_duration.labels("/api/v1/me", "GET").observe(0.002)
    for _ in range(99):
        m.loop_lag.observe(0.001)
    m.loop_lag.observe(0.3)
    state: dict[str, object] = {}
    out = parse_metrics(exposition(m), state, now=100.0)
    assert out["websockets_open"] == 42
    assert out["connection_cap"] == 40
    assert out["ws_rejections_cap_total"] == 5
    assert out["ws_rejections_total"] == 7
    assert out["http_5xx_total"] == 3
    assert out["http_requests_total"] == 13
    assert out["heartbeats_total"] == 7
    assert out["event_loop_lag_p99_s"] == 0.001
    assert out["http_request_p99_s"] == 0.0025
    assert "cpu_ratio" not in out  # a rate needs two scrapes


def test_the_answer_route_and_its_commit_have_their_own_p99() -> None:
    # A few slow answers among thousands of quick downloads: invisible in the overall p99.
    m = Metrics()
    for _ in range(2000):
        m.http_duration.labels("/api/v1/units/{unit_id}/package", "GET").observe(0.002)
    for _ in range(20):
        m.http_duration.labels(ANSWER_ROUTE, "POST").observe(0.8)
        m.answer_commit.observe(0.7)
    out = parse_metrics(exposition(m), {}, now=100.0)
    assert out["http_request_p99_s"] == 0.0025
    assert out["answer_request_p99_s"] == 1.0
    assert out["answer_commit_p99_s"] == 1.0


def test_lag_p99_covers_the_last_interval_only() -> None:
    m = Metrics()
    for _ in range(1000):
        m.loop_lag.observe(0.001)
    state: dict[str, object] = {}
    parse_metrics(exposition(m), state, now=1.0)
    for _ in range(10):
        m.loop_lag.observe(0.4)
    out = parse_metrics(exposition(m), state, now=2.0)
    assert out["event_loop_lag_p99_s"] == 0.5  # the 0.4 s probes' bucket bound
    assert "cpu_ratio" in out and out["cpu_ratio"] >= 0


def test_unreachable_server_gives_no_figures() -> None:
    assert scrape_server("http://127.0.0.1:9", {}) == {}
