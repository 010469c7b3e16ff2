"""The mixin against the real thing: a real Prometheus scrapes a running ``vigie serve`` and a
``vigie load`` fleet under a small load; every panel, variable and rule returns data.

The server runs with a connection cap below the fleet size, so that the cap, its 503s and
the fleet's connection_cap failures are real; a few requests provoke the rest (a refused
login, an upgrade without a token, a fraud probe, a socket dropped without a close frame).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from dashboards.mixin_files import committed_dashboards, rule_files
from dashboards.promql import checkable_expressions
from dashboards.testing import http_get, start_prometheus, wait_for_data
from scenarios import load_scenario
from vigie import testing
from vigie.demo import access_code
from vigie.testing import free_port

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]

SCENARIO = "smoke"
# One more candidate than the fleet uses in AMIENS: ours to provoke with, the fleet never logs in as it.
SPARE = "AMIENS-00011"
CAP = 25  # the smoke fleet has 30 tablets


def vigie(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "vigie", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    try:
        testing.wait_http(url, proc, timeout_s)
    except (RuntimeError, TimeoutError) as exc:
        pytest.fail(f"{exc}\n{log.read_text()[-3000:]}")


@pytest.fixture
def exam_server(tmp_path: Path) -> Iterator[str]:
    scenario = load_scenario(SCENARIO)
    counts = dict(scenario.centres)
    counts["AMIENS"] += 1
    counts_file = tmp_path / "counts.json"
    counts_file.write_text(json.dumps(counts), encoding="utf-8")
    port = free_port()
    log = tmp_path / "server.log"
    proc = vigie(
        "serve",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--db={tmp_path / 'exam.sqlite3'}",
        f"--seed={scenario.seed}",
        f"--demo-counts={counts_file}",
        f"--max-connections={CAP}",
        f"--heartbeat-interval={scenario.heartbeat_interval_s:g}",
        "--late-after=3",
        "--lost-after=5",
        log=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/healthz", proc, log, timeout_s=60)
        yield url
    finally:
        stop(proc)


async def provoke(url: str, seed: int) -> None:
    """The traffic a smooth fleet run does not make, each kind once."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        bad = {"candidate_id": SPARE, "centre": "AMIENS", "access_code": "wrong"}
        async with http.post(f"{url}/api/v1/login", json=bad) as r:
            assert r.status == 401
        async with http.ws_connect(f"{url}/api/v1/ws") as anonymous:  # no token: closed 1008
            await anonymous.receive()
            assert anonymous.close_code == 1008
        good = {"candidate_id": SPARE, "centre": "AMIENS", "access_code": access_code(seed, SPARE)}
        async with http.post(f"{url}/api/v1/login", json=good) as r:
            assert r.status == 200, await r.text()
            token = (await r.json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{url}/api/v1/correction.php", headers=auth) as r:
            assert r.status == 404
        ws = await http.ws_connect(f"{url}/api/v1/ws", headers=auth)
        welcome = await ws.receive_json()
        assert welcome["type"] == "welcome"
        # Drop the socket without a close frame, as a tablet leaving the Wi-Fi does.
        conn = ws._response.connection
        assert conn is not None and conn.transport is not None
        conn.transport.abort()


def test_every_panel_and_rule_returns_data_from_the_real_server_and_fleet(
    exam_server: str, prometheus_bin: str, promtool: str, tmp_path: Path
) -> None:
    scenario = load_scenario(SCENARIO)
    asyncio.run(provoke(exam_server, scenario.seed))
    metrics_port = free_port()
    server_target = exam_server.removeprefix("http://")
    jobs = {"vigie-server": [server_target], "vigie-fleet": [f"127.0.0.1:{metrics_port}"]}
    exprs = checkable_expressions(committed_dashboards(), rule_files())
    fleet_log = tmp_path / "fleet.log"
    with start_prometheus(prometheus_bin, tmp_path, jobs) as prom:
        # A longer unit than the smoke's 20 s, so the fleet is still there when we look.
        fleet = vigie(
            "load",
            SCENARIO,
            "--target",
            exam_server,
            "--metrics-port",
            str(metrics_port),
            "--set",
            "exam.duration_s=3600",
            # The server is deliberately not the scenario's (a spare candidate, a cap and
            # short thresholds, to provoke every kind of traffic): no target check.
            "--no-check",
            log=fleet_log,
        )
        try:
            wait_http(f"http://127.0.0.1:{metrics_port}/metrics", fleet, fleet_log, timeout_s=90)
            empty = wait_for_data(prom, [e.expr for e in exprs], timeout_s=150)
            expositions = {
                "server": http_get(f"{exam_server}/metrics"),
                "fleet": http_get(f"http://127.0.0.1:{metrics_port}/metrics"),
            }
            health = prom.targets_up()
        finally:
            stop(fleet)
    missing = [e.source for e in exprs if e.expr in empty]
    assert missing == [], f"no data for: {missing}\nfleet log:\n{fleet_log.read_text()[-2000:]}"
    assert set(health.values()) == {"up"}, health
    for name, text in expositions.items():
        result = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30, check=False
        )
        assert result.returncode == 0, (name, result.stdout, result.stderr)
