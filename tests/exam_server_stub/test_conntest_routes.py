"""The Monday connection test's routes, against a real ``vigie serve`` on a real SQLite file:
test codes, the test token's scope, report validation, the jury's figures and CSV export."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.exam_server_stub.conftest import contract_problems
from vigie.demo import access_code, connection_test_code
from vigie.testing import ServerProcess

SEED = 13
COUNTS = {"AMU": 3, "LILLE": 2}
SHA_OF_NOTHING = hashlib.sha256(b"").hexdigest()


class Http:
    """Plain HTTP calls; every answer is checked against the OpenAPI document."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, head, payload = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            status, head, payload = err.code, dict(err.headers), err.read()
        template = path.split("?")[0]
        media = head.get("Content-Type", "").split(";")[0]
        if "/units/" not in template:  # templated paths: the document names them {unit_id}
            assert not contract_problems(template, method, status, media, payload)
        return status, head, payload

    def json(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        status, _, payload = self.call(method, path, token, body)
        assert status == 200, payload
        return json.loads(payload)

    def code(self, method: str, path: str, token: str | None = None, body: Any = None, raw: bytes | None = None) -> tuple[int, str]:  # fmt: skip
        status, _, payload = self.call(method, path, token, body, raw)
        return status, json.loads(payload)["error"]["code"]

    def test_token(self, tablet: str, centre: str = "AMU") -> str:
        body = {"centre": centre, "test_code": connection_test_code(SEED, centre), "tablet": tablet}
        token: str = self.json("POST", "/api/v1/connection-test/login", body=body)["token"]
        return token

    def jury(self, username: str) -> str:
        password = "centre-demo" if username.startswith("centre-") else f"{username}-demo"
        body = {"username": username, "password": password}
        token: str = self.json("POST", "/api/v1/jury/login", body=body)["token"]
        return token


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http]:
    tmp = tmp_path_factory.mktemp("conntest")
    counts = tmp / "counts.json"
    counts.write_text(json.dumps(COUNTS))
    args = ["--seed", str(SEED), "--demo-counts", str(counts), "--heartbeat-interval", "2"]
    with ServerProcess(tmp / "exam.sqlite3", args) as server:
        yield Http(server.url)


@pytest.fixture(scope="module")
def sha(http: Http) -> str:
    login = http.json("POST", "/api/v1/connection-test/login", body={
        "centre": "AMU", "test_code": connection_test_code(SEED, "AMU"), "tablet": "probe"})  # fmt: skip
    value: str = login["package_sha256"]
    return value


def report(sha256: str, rtt: list[float], download_ms: float = 1000.0, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "download_bytes": 1_000_000, "download_ms": download_ms, "package_sha256": sha256,
        "rtt_ms": rtt, "probes_sent": len(rtt), "reconnects": 0, "user_agent": "pytest",
        "network": "wifi", "battery": 80, "client_ts": 1.0,
    }  # fmt: skip
    body.update(kw)
    return body


def test_a_wrong_code_an_unknown_centre_or_another_centres_code_is_refused(http: Http) -> None:
    path = "/api/v1/connection-test/login"
    for body in (
        {"centre": "AMU", "test_code": "WRONG", "tablet": "A-1"},
        {"centre": "NOWHERE", "test_code": connection_test_code(SEED, "AMU"), "tablet": "A-1"},
        {"centre": "LILLE", "test_code": connection_test_code(SEED, "AMU"), "tablet": "A-1"},
        # a candidate's access code is not a test code
        {"centre": "AMU", "test_code": access_code(SEED, "AMU-00001"), "tablet": "A-1"},
    ):
        assert http.code("POST", path, body=body) == (401, "bad_credentials")
    typed = {"centre": "AMU", "test_code": f" {connection_test_code(SEED, 'AMU').lower()} ", "tablet": "A-1"}  # fmt: skip
    assert http.json("POST", path, body=typed)["centre"] == "AMU"  # as typed on a tablet
    for tablet in ("", "x" * 33, "A\n1"):
        body = {"centre": "AMU", "test_code": connection_test_code(SEED, "AMU"), "tablet": tablet}
        assert http.code("POST", path, body=body) == (422, "invalid_request")


def test_the_login_says_what_to_measure(http: Http) -> None:
    login = http.json("POST", "/api/v1/connection-test/login", body={
        "centre": "LILLE", "test_code": connection_test_code(SEED, "LILLE"), "tablet": "B-3"})  # fmt: skip
    assert (login["centre"], login["tablet"]) == ("LILLE", "B-3")
    assert login["probes"] == 20 and login["probe_interval_s"] <= login["heartbeat_interval_s"] == 2
    status, head, body = http.call("GET", "/api/v1/connection-test/package", login["token"])
    assert status == 200 and len(body) == login["package_bytes"]
    # a real unit's size: as large as the largest package a candidate downloads
    cand = http.json("POST", "/api/v1/login", body={
        "candidate_id": "AMU-00001", "centre": "AMU", "access_code": access_code(SEED, "AMU-00001")})  # fmt: skip
    sizes = [len(http.call("GET", f"/api/v1/units/{u['unit_id']}/package", cand["token"])[2])
             for u in cand["units"]]  # fmt: skip
    assert len(body) == max(sizes) > 100_000
    assert hashlib.sha256(body).hexdigest() == head["X-Vigie-Sha256"] == login["package_sha256"]
    assert head["Cache-Control"] == "no-store"


def test_a_test_token_opens_the_test_and_nothing_else(http: Http) -> None:
    token = http.test_token("A-2")
    for method, path in (
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/units/ue1/package"),
        ("GET", "/api/v1/units/ue1/key"),
        ("POST", "/api/v1/units/ue1/finish"),
        ("GET", "/api/v1/jury/centres"),
        ("GET", "/api/v1/jury/snapshot"),
        ("GET", "/api/v1/jury/connection-test"),
        ("GET", "/api/v1/jury/connection-test.csv"),
        ("GET", "/api/v1/jury/answers/export"),
        ("POST", "/api/v1/jury/units/ue1/launch"),
    ):
        body = {"action_id": "x", "client_ts": 1.0} if path.endswith("finish") else None
        body = {"reason": "test"} if path.endswith("launch") else body
        assert http.code(method, path, token, body) == (403, "forbidden"), path
    # and the other way round: neither a candidate's nor a jury token opens the test
    cand = http.json("POST", "/api/v1/login", body={
        "candidate_id": "AMU-00002", "centre": "AMU", "access_code": access_code(SEED, "AMU-00002")})  # fmt: skip
    for other in (cand["token"], http.jury("national")):
        assert http.code("GET", "/api/v1/connection-test/package", other) == (403, "forbidden")
        body = report(SHA_OF_NOTHING, [10.0])
        assert http.code("POST", "/api/v1/connection-test/report", other, body) == (403, "forbidden")  # fmt: skip
    assert http.code("GET", "/api/v1/connection-test/package") == (401, "unauthenticated")


def test_the_candidate_websocket_closes_on_a_test_token_and_the_echo_answers_it(
    http: Http,
) -> None:
    token = http.test_token("A-3")

    async def go() -> None:
        base = http.base.replace("http", "ws")
        async with aiohttp.ClientSession() as s:
            async with s.ws_connect(f"{base}/api/v1/ws?token={token}") as ws:
                msg = await ws.receive(timeout=5)
                assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008
            async with s.ws_connect(f"{base}/api/v1/connection-test/ws?token={token}") as ws:
                for seq in range(3):
                    await ws.send_json({"type": "probe", "seq": seq, "client_ts": 12.5})
                    echo = await ws.receive_json(timeout=5)
                    assert echo["type"] == "probe_echo" and echo["seq"] == seq
                    assert echo["client_ts"] == 12.5 and echo["server_ts"] > 1.7e9
                await ws.send_json({"type": "probe", "seq": 1, "client_ts": 1, "extra": 1})
                msg = await ws.receive(timeout=5)
                assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008
            async with s.ws_connect(f"{base}/api/v1/connection-test/ws?token=bad") as ws:
                msg = await ws.receive(timeout=5)
                assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008

    asyncio.run(go())


def test_a_bad_report_is_refused_and_stores_nothing(http: Http, sha: str) -> None:
    token = http.test_token("Z-9", centre="LILLE")
    path = "/api/v1/connection-test/report"
    for bad in (
        report(sha, [1.0] * 101),
        report(sha, [1.0, 2.0], probes_sent=1),  # more round trips than probes
        report(sha, [-1.0]),
        report(sha, [1.0], battery=101),
        report(sha, [1.0], user_agent="u" * 513),
        report(sha, [1.0], network="n" * 17),
        report(sha, [1.0], download_ms=-5),
        report(sha, [1.0], extra="field"),
        {"download_bytes": 1},
    ):
        assert http.code("POST", path, token, bad) == (422, "invalid_request"), bad
    assert http.code("POST", path, token, raw=b"[1, 2") == (400, "malformed_json")
    assert http.code("POST", path, token, raw=b"x" * 70_000) == (413, "body_too_large")
    doc = http.json("GET", "/api/v1/jury/connection-test?centre=LILLE", http.jury("national"))
    assert "Z-9" not in {t["tablet"] for t in doc["tablets"]}


def test_the_jury_sees_each_centres_figures_from_the_latest_reports(http: Http, sha: str) -> None:
    path = "/api/v1/connection-test/report"
    slow = http.test_token("AMU-slow")
    http.json("POST", path, slow, report(sha, [10.0, 20.0], download_ms=9000.0))
    # its latest report counts: the same tablet again, faster
    ack = http.json("POST", path, slow, report(sha, [30.0, 40.0, 50.0, 60.0], download_ms=4000.0))
    assert ack["ready"] is True and ack["tablet"] == "AMU-slow" and ack["centre"] == "AMU"
    http.json("POST", path, http.test_token("AMU-fast"), report(sha, [1.0, 2.0, 3.0, 4.0], download_ms=500.0))  # fmt: skip
    bad = report(SHA_OF_NOTHING, [1500.0, 1600.0, 5.0, 5.0], download_ms=2000.0, reconnects=3)
    ack = http.json("POST", path, http.test_token("=BAD"), bad)
    assert ack["ready"] is False
    national = http.jury("national")
    doc = http.json("GET", "/api/v1/jury/connection-test?centre=AMU", national)
    (amu,) = doc["centres"]
    assert amu["centre"] == "AMU" and amu["name"] == "Aix-Marseille Université"
    assert amu["test_code"] == connection_test_code(SEED, "AMU")
    assert (amu["tablets"], amu["ready"], amu["reconnects"]) == (3, 2, 3)
    # every probe of the centre, nearest rank: 12 values, p50 = 6th, p95 = 12th
    probes = sorted([30.0, 40.0, 50.0, 60.0, 1.0, 2.0, 3.0, 4.0, 1500.0, 1600.0, 5.0, 5.0])
    assert amu["rtt_p50_ms"] == probes[5] == 5.0
    assert amu["rtt_p95_ms"] == amu["rtt_max_ms"] == 1600.0
    assert (amu["download_p50_s"], amu["download_p95_s"], amu["download_max_s"]) == (2.0, 4.0, 4.0)
    # 1 MB in 0.5 s, 2 s and 4 s: 16, 4 and 2 Mbit/s
    assert (amu["throughput_p50_mbps"], amu["throughput_min_mbps"]) == (4.0, 2.0)
    assert [t["tablet"] for t in amu["slowest"]] == ["AMU-slow", "=BAD", "AMU-fast"]
    by_name = {t["tablet"]: t for t in doc["tablets"]}
    assert set(by_name) == {"AMU-slow", "AMU-fast", "=BAD"}
    slow_t = by_name["AMU-slow"]
    assert (slow_t["rtt_p50_ms"], slow_t["rtt_p95_ms"], slow_t["rtt_max_ms"]) == (40.0, 60.0, 60.0)
    assert slow_t["probes_answered"] == slow_t["probes_sent"] == 4
    bad_t = by_name["=BAD"]
    assert bad_t["sha256_ok"] is False and len(bad_t["problems"]) == 2  # package and round trip
    # the whole country: every centre listed, the ones without reports at zero
    everything = http.json("GET", "/api/v1/jury/connection-test", national)
    nantes = next(c for c in everything["centres"] if c["centre"] == "NANTES")
    assert (nantes["tablets"], nantes["rtt_p50_ms"], nantes["slowest"]) == (0, None, [])
    assert {c["centre"] for c in everything["centres"]} >= {"AMU", "LILLE", "NANTES"}

    status, head, body = http.call("GET", "/api/v1/jury/connection-test.csv?centre=AMU", national)
    assert status == 200 and head["Content-Type"].startswith("text/csv")
    assert 'filename="test-connexion-AMU.csv"' in head["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["tablet"] for r in rows] == ["'=BAD", "AMU-fast", "AMU-slow"]  # no formula
    assert rows[2]["download_s"] == "4.0" and rows[2]["ready"] == "oui"
    assert rows[0]["ready"] == "non" and rows[0]["reconnects"] == "3"


def test_a_centre_jury_sees_its_own_centre_and_observers_no_codes(http: Http, sha: str) -> None:
    http.json("POST", "/api/v1/connection-test/report", http.test_token("L-1", "LILLE"), report(sha, [7.0]))  # fmt: skip
    lille = http.jury("centre-LILLE")
    doc = http.json("GET", "/api/v1/jury/connection-test", lille)
    assert [c["centre"] for c in doc["centres"]] == ["LILLE"]
    assert doc["centres"][0]["test_code"] == connection_test_code(SEED, "LILLE")
    assert {t["centre"] for t in doc["tablets"]} == {"LILLE"}
    for path in ("/api/v1/jury/connection-test", "/api/v1/jury/connection-test.csv"):
        assert http.code("GET", path + "?centre=AMU", lille) == (403, "forbidden")
    status, _, body = http.call("GET", "/api/v1/jury/connection-test.csv", lille)
    assert status == 200 and {r["centre"] for r in csv.DictReader(io.StringIO(body.decode()))} == {"LILLE"}  # fmt: skip
    observer = http.jury("observer")
    seen = http.json("GET", "/api/v1/jury/connection-test", observer)["centres"]
    assert len(seen) > 2 and all(c["test_code"] is None for c in seen)
    assert http.code("GET", "/api/v1/jury/connection-test?centre=NOWHERE", observer) == (404, "unknown_centre")  # fmt: skip


def test_reports_survive_a_restart(tmp_path: Path) -> None:
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps({"AMU": 1}))
    args = ["--seed", str(SEED), "--demo-counts", str(counts)]
    db = tmp_path / "exam.sqlite3"
    with ServerProcess(db, args) as server:
        http = Http(server.url)
        login = http.json("POST", "/api/v1/connection-test/login", body={
            "centre": "AMU", "test_code": connection_test_code(SEED, "AMU"), "tablet": "R-1"})  # fmt: skip
        http.json("POST", "/api/v1/connection-test/report", login["token"], report(login["package_sha256"], [3.0]))  # fmt: skip

        async def stop_with_an_echo_socket_open() -> None:
            url = f"{server.url.replace('http', 'ws')}/api/v1/connection-test/ws"
            async with (
                aiohttp.ClientSession() as s,
                s.ws_connect(f"{url}?token={login['token']}") as ws,
            ):
                started = time.monotonic()
                stopping = asyncio.create_task(asyncio.to_thread(server.stop))
                msg = await ws.receive(timeout=10)
                assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
                assert await stopping == 0 and time.monotonic() - started < 10

        asyncio.run(stop_with_an_echo_socket_open())
    with ServerProcess(db, args) as server:
        http = Http(server.url)
        doc = http.json("GET", "/api/v1/jury/connection-test?centre=AMU", http.jury("national"))
        assert [(t["tablet"], t["ready"]) for t in doc["tablets"]] == [("R-1", True)]
