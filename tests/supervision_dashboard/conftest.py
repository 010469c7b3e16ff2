from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def snapshot() -> dict[str, Any]:
    return load("snapshot.json")


@pytest.fixture
def changes() -> dict[str, Any]:
    return load("changes.json")


# --- real processes: the exam server and the dashboard on 127.0.0.1 ---------------------
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

import aiohttp  # noqa: E402

from vigie.testing import free_port, wait_http  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VIGIE = [sys.executable, "-m", "vigie"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def jury_post(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    req = urllib.request.Request(
        base + "/api/v1" + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def jury_get(base: str, path: str, token: str) -> Any:
    req = urllib.request.Request(
        base + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def exam_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    db = tmp_path_factory.mktemp("exam") / "exam.sqlite3"
    # No planned extra time: the scenes launch one unit after another, and a tiers-temps
    # candidate still composing would hold the next launch back (tested on its own).
    cmd = [*VIGIE, "serve", "--demo", "120", "--port", str(port), "--db", str(db)]
    cmd += ["--tiers-temps-share", "0"]
    cmd += ["--heartbeat-interval", "1", "--late-after", "3", "--lost-after", "5"]
    log = (db.parent / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    _SERVERS[base] = proc
    try:
        wait_http(base + "/healthz", proc)
        yield base
    finally:
        stop(proc)
        _SERVERS.pop(base, None)


_SERVERS: dict[str, subprocess.Popen[bytes]] = {}


@pytest.fixture(scope="module")
def exam_server_process(exam_server: str) -> subprocess.Popen[bytes]:
    """The exam server's process, for a test that stops it (the feed must then look dead)."""
    return _SERVERS[exam_server]


@contextlib.contextmanager
def run_dashboard(server: str, state: Path) -> Iterator[str]:
    """`vigie dashboard` against ``server`` (sessions in ``state``), refreshing every second."""
    port = free_port()
    cmd = [*VIGIE, "dashboard", "--server", server, "--port", str(port)]
    cmd += ["--refresh-ms", "1000", "--threads", "8", "--state-dir", str(state)]
    log = (state / "dashboard.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/login", proc)
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def dashboard(exam_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_dashboard(exam_server, tmp_path_factory.mktemp("dashboard")) as base:
        yield base


# --- simulated tablets: asyncio + aiohttp in a thread, following docs/protocol.md ----------
class Tablets:
    """A few tablets that log in, heartbeat every second and confirm their instructions."""

    def __init__(self, base: str, candidate_ids: list[str], max_s: float = 240.0) -> None:
        self.base = base
        self.ids = candidate_ids
        self.max_s = max_s  # hard stop even if nobody calls stop()
        self.instructions: dict[str, list[dict[str, Any]]] = {cid: [] for cid in candidate_ids}
        self.connected: set[str] = set()
        self.units: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def drop(self, cid: str, timeout_s: float = 10.0) -> None:
        """Kill one tablet (its socket closes); the others go on."""
        task = self._tasks[cid]
        self._loop.call_soon_threadsafe(task.cancel)
        deadline = time.monotonic() + timeout_s
        while not task.done() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.connected.discard(cid)

    def start(self, timeout_s: float = 30.0) -> Tablets:
        """Start (once) and wait until every tablet holds its socket."""
        if not self._thread.is_alive() and self._stop is None:
            self._thread.start()
        deadline = time.monotonic() + timeout_s
        while len(self.connected) < len(self.ids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.connected) == len(self.ids), f"only {len(self.connected)} tablets connected"
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(15)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession() as session:
            self._tasks = {cid: asyncio.create_task(self._tablet(session, cid)) for cid in self.ids}
            tasks = list(self._tasks.values())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.max_s)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _tablet(self, session: aiohttp.ClientSession, cid: str) -> None:
        from exam_server_stub.settings import DEFAULT_SEED
        from vigie.demo import access_code

        centre = cid.rsplit("-", 1)[0]
        body = {
            "candidate_id": cid,
            "centre": centre,
            "access_code": access_code(DEFAULT_SEED, cid),
        }
        async with session.post(self.base + "/api/v1/login", json=body) as resp:
            login = await resp.json()
        self.units = login["units"]
        headers = {"Authorization": f"Bearer {login['token']}"}
        async with session.ws_connect(self.base + "/api/v1/ws", headers=headers) as ws:
            await ws.receive_json(timeout=10)  # welcome
            self.connected.add(cid)
            seq, unit = 0, None
            assert self._stop is not None
            while not self._stop.is_set():
                seq += 1
                await ws.send_json(
                    {"type": "hb", "seq": seq, "unit_id": unit, "position": 0, "answered": 0,
                     "battery": 80, "network": "wifi", "client_ts": time.time()}
                )  # fmt: skip
                for _ in range(10):  # pushes (launch, close_unit) may come before the ack
                    msg = await ws.receive_json(timeout=10)
                    if msg.get("type") == "launch":
                        unit = msg["unit_id"]
                    if msg.get("type") == "hb_ack":
                        break
                fresh = [i for i in msg.get("instructions", []) if i not in self.instructions[cid]]
                if fresh:
                    self.instructions[cid].extend(fresh)
                    await ws.send_json({"type": "ack", "ids": [i["id"] for i in fresh]})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)


# --- headless Chromium ---------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1500,1100",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        opts.add_argument(flag)
    driver = webdriver.Chrome(
        options=opts, service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    )
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True)
class JuryApi:
    """Direct calls to the exam server's jury API (to set the scene, not to test the UI)."""

    base: str

    def post(self, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        return jury_post(self.base, path, body, token)

    def get(self, path: str, token: str) -> Any:
        return jury_get(self.base, path, token)


@pytest.fixture(scope="module")
def jury_api(exam_server: str) -> JuryApi:
    return JuryApi(exam_server)


@pytest.fixture(scope="module")
def national_token(jury_api: JuryApi) -> str:
    token: str = jury_api.post(
        "/jury/login", {"username": "national", "password": "national-demo"}
    )["token"]
    return token


@pytest.fixture(scope="module")
def roster(jury_api: JuryApi, national_token: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = jury_api.get("/jury/snapshot", national_token)["candidates"]
    return rows


@pytest.fixture(scope="module")
def tablets(exam_server: str, roster: list[dict[str, Any]]) -> Iterator[Tablets]:
    """Eight tablets (three in AMU, none in LILLE), started by the test that needs them."""
    amu = [r["id"] for r in roster if r["centre"] == "AMU"][:3]
    others = [r["id"] for r in roster if r["centre"] not in ("AMU", "LILLE")][:5]
    fleet = Tablets(exam_server, amu + others)
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def make_tablets(exam_server: str) -> Iterator[Callable[[list[str]], Tablets]]:
    """Tablets for the candidates a test names, stopped with the module."""
    fleets: list[Tablets] = []

    def make(ids: list[str]) -> Tablets:
        fleets.append(Tablets(exam_server, ids))
        return fleets[-1]

    yield make
    for fleet in fleets:
        fleet.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
