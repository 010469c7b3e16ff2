"""Simulated tablets against the real exam server (``vigie serve``, a real SQLite file).

Locust monkey-patches the process with gevent, so the tablets run in a driver
subprocess (Locust's local runner with :class:`simulator.tablet.TabletUser`); this
process plays the national jury over HTTP and kills/restarts the server.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vigie.demo import generate_session

TABLETS = 3
DRIVER = textwrap.dedent(
    """
    import json, sys, time
    import locust  # gevent monkey-patching first
    import gevent
    from locust.env import Environment
    from vigie.demo import demo_counts, roster
    from simulator import settings as fleet
    from simulator.tablet import TabletUser

    port, count, limit, fraction = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    ids = [
        fleet.TabletIdentity(c.candidate_id, c.centre, c.access_code, 1)
        for c in roster(demo_counts(count), 2022)
    ]
    fleet.configure(
        fleet.FleetSettings(
            target=f"http://127.0.0.1:{port}",
            heartbeat_interval_s=1.0,
            think_time=fleet.ThinkTime(median_s=0.3, sigma=0.3, min_s=0.1, max_s=1.0),
            answer_fraction=fraction,
            reconnect_base_s=0.2,
            reconnect_max_s=1.0,
            request_timeout_s=3.0,
        ),
        iter(ids),
    )
    env = Environment(user_classes=[TabletUser])
    runner = env.create_local_runner()
    runner.start(count, spawn_rate=count)
    end = time.monotonic() + limit
    tablets = []
    while time.monotonic() < end:
        gevent.sleep(0.2)
        tablets = [g.args[0].tablet for g in runner.user_greenlets if g.args[0].tablet]
        print(json.dumps({"open": fleet.FleetCounters.sockets_open,
                          "finished": sum(1 for t in tablets if t.finished_units)}), flush=True)
        if len(tablets) == count and all(t.finished_units for t in tablets):
            break
    result = {
        t.identity.candidate_id: {
            "finished": t.finished_units, "sent": t.sent_actions, "resent": t.resent,
            "offline": len(t.offline), "acked": t.acked, "reconnects": t.reconnects,
            "bugs": t.queue.bugs, "dropped": t.queue.dropped, "duplicates": t.queue.duplicates,
        }
        for t in tablets
    }
    runner.quit()
    stats = {f"{e.method} {e.name}": [e.num_requests, e.num_failures] for e in env.stats.entries.values()}
    print("RESULT " + json.dumps({"tablets": result, "stats": stats,
                                  "sockets_left": fleet.FleetCounters.sockets_open}), flush=True)
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


class Server:
    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port = db, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        vigie = Path(sys.executable).with_name("vigie")
        self.proc = subprocess.Popen(
            [
                str(vigie),
                "serve",
                "--demo",
                str(TABLETS),
                "--db",
                str(self.db),
                "--port",
                str(self.port),
                "--heartbeat-interval",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("exam server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "exam.sqlite3", _free_port())
    srv.start()
    try:
        yield srv
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()


def _jury(port: int) -> str:
    return str(
        _http(port, "POST", "/jury/login", {"username": "national", "password": "national-demo"})[
            "token"
        ]
    )


def _driver(port: int, limit: float, fraction: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(port), str(TABLETS), str(limit), str(fraction)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def _wait_progress(drv: subprocess.Popen[str], key: str, value: int, limit: float) -> None:
    assert drv.stdout is not None
    end = time.monotonic() + limit
    while time.monotonic() < end:
        line = drv.stdout.readline()
        if not line:
            break
        if line.startswith("{") and json.loads(line)[key] >= value:
            return
    raise AssertionError(f"tablets never reached {key}={value}")


def _result(drv: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = drv.communicate(timeout=120)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise AssertionError(f"driver gave no result:\n{out[-2000:]}\n{err[-3000:]}")


def test_tablets_sit_a_unit_from_login_to_finish(server: Server) -> None:
    drv = _driver(server.port, 90, 0.15)
    _wait_progress(drv, "open", TABLETS, 40)
    jury = _jury(server.port)
    unit = generate_session(2022).units[0].id
    cid = _http(server.port, "GET", "/jury/snapshot", token=jury)["candidates"][0]["id"]
    _http(
        server.port,
        "POST",
        f"/jury/units/{unit}/launch",
        {"reason": "test", "duration_s": 120},
        jury,
    )
    _http(
        server.port,
        "POST",
        "/jury/extra-time",
        {"unit_id": unit, "candidate_id": cid, "seconds": 30, "reason": "tablet changed"},
        jury,
    )
    res = _result(drv)
    assert res["sockets_left"] == 0
    assert len(res["tablets"]) == TABLETS
    db = sqlite3.connect(server.db)
    for tablet_id, t in res["tablets"].items():
        assert t["finished"] == [unit]
        assert t["offline"] == 0 and t["sent"]
        assert t["bugs"] == [] and t["dropped"] == []  # no action id reused, none refused
        stored = {
            r[0]
            for r in db.execute("SELECT action_id FROM answers WHERE candidate_id=?", (tablet_id,))
        }
        assert stored == set(t["sent"])
    assert res["tablets"][cid]["acked"], "the extra-time instruction was never confirmed"
    timeline = _http(server.port, "GET", f"/jury/candidates/{cid}/timeline", token=jury)["events"]
    kinds = [e["kind"] for e in timeline]
    assert "instruction_ack" in kinds and "finish" in kinds
    for name in (
        "HTTP login",
        "WS ws_connect",
        "HTTP key",
        "HTTP answer",
        "HTTP finish",
        "WS heartbeat",
    ):
        assert res["stats"][name][0] > 0, name


def test_reconnect_after_server_restart_resends_offline_answers(server: Server) -> None:
    drv = _driver(server.port, 100, 0.3)
    _wait_progress(drv, "open", TABLETS, 40)
    jury = _jury(server.port)
    unit = generate_session(2022).units[0].id
    _http(
        server.port,
        "POST",
        f"/jury/units/{unit}/launch",
        {"reason": "test", "duration_s": 300},
        jury,
    )
    time.sleep(2.0)  # some answers get through
    server.kill()
    time.sleep(3.0)  # tablets keep answering, offline
    server.start()
    res = _result(drv)
    assert res["sockets_left"] == 0
    db = sqlite3.connect(server.db)
    resent = 0
    for tablet_id, t in res["tablets"].items():
        assert t["finished"] == [unit]
        assert t["offline"] == 0
        assert t["reconnects"] >= 1
        assert t["bugs"] == [] and t["dropped"] == []
        # a re-send answered duplicate: true is one the server had committed: stored
        assert set(t["duplicates"]) <= set(t["sent"])
        stored = [
            r[0]
            for r in db.execute("SELECT action_id FROM answers WHERE candidate_id=?", (tablet_id,))
        ]
        # every answer is stored exactly once, under the action id the tablet gave it
        assert sorted(stored) == sorted(t["sent"])
        resent += len(t["resent"])
    assert resent > 0, "no answer was given while the server was down"
    assert res["stats"]["WS heartbeat"][1] > 0  # the drops were reported
