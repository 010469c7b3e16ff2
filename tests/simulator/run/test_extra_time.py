"""The end-of-run extra time check against a real ``vigie serve`` process.

A roster with tiers-temps, a centre whose planned time the server forgets (the fault), a
tablet that drops for a moment: the check finds both, the grant fixes the second only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from exam_server_stub.bootstrap import bootstrap
from exam_server_stub.extra_time import TIERS_META
from exam_server_stub.store import connect
from simulator.certify.extra_time import extra_time_problems
from simulator.run.extra_time import check_extra_time, grant_incident_time
from vigie.centres import load_centres
from vigie.demo import access_code
from vigie.jury_client import JuryClient
from vigie.testing import ServerProcess

SEED = 7
COUNTS = {"AMU": 3, "LILLE": 2, "LILLE-CATHO": 1}  # share 0.5: all but LILLE-00002 planned
TOKEN = "op"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    db = tmp_path / "exam.sqlite3"
    bootstrap(db, COUNTS, SEED, load_centres(None))
    conn = connect(db)
    doc = json.dumps({"share": 0.5, "ratio": 1 / 3})
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (TIERS_META, doc))
    conn.close()
    counts = tmp_path / "counts.json"
    counts.write_text(json.dumps(COUNTS))
    args = ["--seed", str(SEED), "--demo-counts", str(counts), "--operator-token", TOKEN]
    srv = ServerProcess(db, args)
    srv.start()
    yield srv
    srv.close()


def _jury(s: requests.Session, url: str) -> str:
    r = s.post(f"{url}/api/v1/jury/login", json={"username": "national", "password": "national-demo"})  # fmt: skip
    assert r.status_code == 200
    token: str = r.json()["token"]
    return token


async def _drop_a_tablet(url: str, cid: str, away_s: float) -> None:
    async with aiohttp.ClientSession() as s:
        body = {"candidate_id": cid, "centre": cid.rsplit("-", 1)[0], "access_code": access_code(SEED, cid)}  # fmt: skip
        async with s.post(f"{url}/api/v1/login", json=body) as r:
            token = (await r.json())["token"]
        ws = await s.ws_connect(f"{url}/api/v1/ws", headers={"Authorization": f"Bearer {token}"})
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        await ws.close()
    await asyncio.sleep(away_s)  # a real process keeps its own clock


def test_check_finds_missing_tiers_temps_and_time_away_until_granted(
    server: ServerProcess,
) -> None:
    url = server.url
    with requests.Session() as s:
        token = _jury(s, url)
        jury = {"Authorization": f"Bearer {token}"}
        fault: dict[str, Any] = {
            "kind": "drop_planned_extra_time",
            "centres": ["LILLE"],
            "duration_s": 30,
        }
        r = s.post(f"{url}/api/v1/operator/faults", json=fault, headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        assert r.status_code == 200, r.text
        r = s.post(f"{url}/api/v1/jury/units/ue1/launch", json={"reason": "go", "duration_s": 600}, headers=jury)  # fmt: skip
        assert r.status_code == 200, r.text
        asyncio.run(_drop_a_tablet(url, "AMU-00002", 1.5))

        national = JuryClient(url, token)
        before = check_extra_time(national, "ue1")
        assert before["error"] is None and before["checked"] == 6 and before["with_planned"] == 5
        assert before["planned_missing"]["count"] == 1
        assert before["planned_missing"]["by_centre"] == {"LILLE": 1}
        assert before["planned_missing"]["examples"][0]["candidate_id"] == "LILLE-00001"
        # AMU-00002's tiers-temps are no compensation for its time away.
        assert before["disconnected_not_covered"]["by_centre"] == {"AMU": 1}
        assert len(extra_time_problems(before)) == 2

        note = grant_incident_time(national, "coupure réseau")
        assert note.startswith("incident time granted: 1 candidate(s), 1 min in all in 1 centre(s) (AMU)")  # fmt: skip
        after = check_extra_time(national, "ue1")
        assert after["disconnected_not_covered"]["count"] == 0
        assert after["incident_granted_s"] == 60
        [reason] = extra_time_problems(after)
        assert "tiers-temps" in reason and "LILLE 1" in reason
        json.dumps(after)  # findings go into the run record as they are

        assert "not granted: 401" in grant_incident_time(JuryClient(url, "bad-token"), "r")
        wrong = check_extra_time(national, "ue2")
        assert "current unit is 'ue1'" in wrong["error"]
        assert extra_time_problems(wrong)[0].startswith("extra time could not be checked")
        gone = check_extra_time(JuryClient("http://127.0.0.1:9", token), "ue1")
        assert gone["error"] and extra_time_problems(gone)


def test_no_problem_when_every_deadline_holds() -> None:
    fine = {
        "error": None,
        "checked": 10,
        "planned_missing": {"count": 0, "by_centre": {}, "examples": []},
        "disconnected_not_covered": {"count": 0, "by_centre": {}, "examples": []},
    }
    assert extra_time_problems(fine) == []
