"""Rooms, seats and answers in real Chromium, against the real exam server: a centre's jury
looks at one room; a tablet whose answers do not reach the server reads so in the grid and
raises its alert; the national view's banner names a paused centre.

AMU has 70 candidates on this server (the demo roster seats them 60 to a room: Salle 1,
then ten in Salle 2). Two tablets sit ue1: AMU-00001 (Salle 1) and AMU-00061 (Salle 2,
seat 01), whose heartbeat counts three answers while the server stored one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from supervision_dashboard.clock import clock
from tests.supervision_dashboard.browser import cell, login, shot, text_of, until
from tests.supervision_dashboard.conftest import ROOT, VIGIE, JuryApi, run_dashboard, stop
from vigie.testing import free_port, wait_http

pytestmark = pytest.mark.browser

BACK, STUCK = "AMU-00001", "AMU-00061"
SALLE_2 = [f"AMU-{i:05d}" for i in range(61, 71)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An exam server of its own: AMU large enough for two rooms, CAEN to pause."""
    work = tmp_path_factory.mktemp("rooms")
    counts = work / "counts.json"
    counts.write_text(json.dumps({"AMU": 70, "CAEN": 3}), encoding="utf-8")
    port = free_port()
    cmd = [*VIGIE, "serve", "--demo-counts", str(counts), "--port", str(port)]
    cmd += ["--db", str(work / "exam.sqlite3"), "--tiers-temps-share", "0"]
    cmd += ["--heartbeat-interval", "1", "--late-after", "3", "--lost-after", "5"]
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz", proc)
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def rooms_dashboard(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with run_dashboard(server, tmp_path_factory.mktemp("rooms-dashboard")) as base:
        yield base


class Tablet:
    """One tablet on ue1 that heartbeats every second, counting ``answered`` answers."""

    def __init__(self, base: str, cid: str, answered: int) -> None:
        self.base, self.cid, self.answered = base, cid, answered
        self.connected = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Tablet:
        self._thread.start()
        assert self.connected.wait(30), f"{self.cid} did not connect"
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(15)

    async def _main(self) -> None:
        async with aiohttp.ClientSession() as session:
            headers = {"Authorization": f"Bearer {_token(self.base, self.cid)}"}
            async with session.ws_connect(self.base + "/api/v1/ws", headers=headers) as ws:
                await ws.receive_json(timeout=10)  # welcome
                self.connected.set()
                seq = 0
                while not self._done.is_set() and seq < 300:
                    seq += 1
                    await ws.send_json(
                        {"type": "hb", "seq": seq, "unit_id": "ue1", "position": 0,
                         "answered": self.answered, "battery": 80, "network": "wifi",
                         "client_ts": time.time()}
                    )  # fmt: skip
                    for _ in range(10):  # pushes may come before the ack
                        if (await ws.receive_json(timeout=10)).get("type") == "hb_ack":
                            break
                    await asyncio.sleep(1.0)


def _token(base: str, cid: str) -> str:
    from exam_server_stub.settings import DEFAULT_SEED
    from vigie.demo import access_code

    body = {"candidate_id": cid, "centre": "AMU", "access_code": access_code(DEFAULT_SEED, cid)}
    token: str = JuryApi(base).post("/login", body)["token"]
    return token


def _question() -> str:
    from exam_server_stub.settings import DEFAULT_SEED
    from vigie.demo import generate_session

    unit = next(u for u in generate_session(DEFAULT_SEED).units if u.id == "ue1")
    return next(q.id for q in unit.questions if q.format == "QROC" and q.dossier_id is None)


SHOW = """
const api = dash_ag_grid.getApi('centre-grid');
const node = api.getRowNode(arguments[0]);
if (node) { api.ensureNodeVisible(node); api.ensureColumnVisible(arguments[1]); }
return Boolean(node);
"""


def _cell(browser: Any, cid: str, col: str) -> str:
    """A cell's text, scrolled into view first (in progress sorts last, and the grid only
    renders the rows and columns near its viewport)."""
    if not browser.execute_script(SHOW, cid, col):
        return ""
    return cell(browser, "centre-grid", cid, col)


def _displayed(browser: Any) -> int:
    script = "return dash_ag_grid.getApi('centre-grid').getDisplayedRowCount();"
    return int(browser.execute_script(script))


def _shown_ids(browser: Any) -> set[str]:
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "#centre-grid .ag-center-cols-container .ag-row")
    return {str(r.get_attribute("row-id")) for r in rows}


def test_a_centre_jury_looks_at_one_room_and_sees_answers_not_landing(
    browser: Any, rooms_dashboard: str, server: str, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    api = JuryApi(server)
    national = api.post("/jury/login", {"username": "national", "password": "national-demo"})
    api.post("/jury/units/ue1/launch", {"reason": "test", "duration_s": 900}, national["token"])
    body = {"action_id": "a-1", "question_id": _question(), "answer": {"text": "embolie"},
            "final": False, "client_ts": time.time()}  # fmt: skip
    stored = api.post("/units/ue1/answers", body, _token(server, STUCK))["server_ts"]

    with Tablet(server, BACK, 0), Tablet(server, STUCK, 3):
        login(browser, rooms_dashboard, "centre-AMU", "centre-demo")
        until(lambda: text_of(browser, "centre-title") == "AMU", what="the centre view")
        until(lambda: _cell(browser, BACK, "room") == "Salle 1", what="Salle 1")
        assert _cell(browser, BACK, "last_answer") == "—"
        assert _cell(browser, BACK, "pending") == "0"
        until(lambda: _cell(browser, STUCK, "pending") == "2", what="2 answers pending")
        assert _cell(browser, STUCK, "room") == "Salle 2"
        assert _cell(browser, STUCK, "seat") == "01"
        assert _cell(browser, STUCK, "last_answer") == clock(stored)
        pending = browser.find_element(
            By.CSS_SELECTOR, f"#centre-grid .ag-row[row-id='{STUCK}'] [col-id='pending']"
        )
        assert "pending-offline" in str(pending.get_attribute("class"))
        headers = text_of(browser, "centre-grid")
        for header in ("Salle", "Place", "Dernière réponse", "Réponses en attente"):
            assert header in headers, header

        # The room filter: Salle 2's ten candidates, and nobody from Salle 1.
        until(lambda: "Salle 2 · 10" in text_of(browser, "centre-room"), what="the rooms")
        browser.find_element(By.CSS_SELECTOR, "#centre-room input[value='Salle 2']").click()
        until(lambda: _shown_ids(browser) == set(SALLE_2), what="only Salle 2's rows")
        assert _displayed(browser) == 10 and _cell(browser, STUCK, "pending") == "2"

        # Past two refreshes with answers pending on a connected tablet: the alert.
        until(
            lambda: "Réponses non reçues par le serveur : AMU-00061" in text_of(browser, "page"),
            what="the pending-answers alert",
        )
        shot(browser, screenshots, "centre-room.png")
        browser.find_element(By.CSS_SELECTOR, "#centre-room input[value='']").click()
        until(lambda: _displayed(browser) == 70, what="every room again")

    # The national banner: a paused centre, named; nothing once it resumes.
    api.post("/jury/centres/CAEN/pause", {"reason": "alarme"}, national["token"])
    login(browser, rooms_dashboard, "national", "national-demo")
    until(
        lambda: "Centres en pause : CAEN" in text_of(browser, "nat-active"),
        what="the national banner",
    )
    shot(browser, screenshots, "national-banner.png")
    api.post("/jury/centres/CAEN/resume", {"reason": "fin d'alarme"}, national["token"])
    until(lambda: not text_of(browser, "nat-active"), what="the banner gone")
    with contextlib.suppress(Exception):
        api.post("/jury/units/ue1/close", {"reason": "fin"}, national["token"])
