"""Browser tablets through a server `kill -9` and restart, mid-unit.

While the server is gone the tablets say so, keep answering into their IndexedDB queue, and
count down; once it is back (same port, same database) they reconnect by themselves, re-send
what waited with the same action ids, and every receipt is in the server's store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.settings import DEFAULT_SEED
from tests.exam_server_stub.chromium import ExamServer, Tablet, export, open_tablets
from tests.supervision_dashboard.browser import until
from tests.supervision_dashboard.conftest import jury_get, jury_post
from vigie.demo import Question, generate_session

pytestmark = pytest.mark.browser
QUESTIONS: list[Question] = list(generate_session(DEFAULT_SEED).units[0].questions)
CANDIDATES = ["AMU-00001", "AMU-00002"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExamServer]:
    db: Path = tmp_path_factory.mktemp("restart") / "exam.sqlite3"
    srv = ExamServer(db, "--demo-counts", str(_counts(db.parent)), "--heartbeat-interval", "1")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _counts(directory: Path) -> Path:
    path = directory / "counts.json"
    path.write_text(json.dumps({"AMU": 4}))
    return path


def _national(base: str) -> str:
    body = {"username": "national", "password": "national-demo"}
    token: str = jury_post(base, "/jury/login", body)["token"]
    return token


def _tick(t: Tablet, q: Question) -> None:
    t.find(f"#nav button[data-question-id='{q.id}']").click()
    t.on_question(q.id)
    t.find("#question .props input[data-index='0']").click()
    t.find("#question .props input[data-index='1']").click()
    t.find("#save").click()


def test_tablets_ride_out_a_server_crash(
    make_chromium: Callable[..., Any], server: ExamServer
) -> None:
    tablets = open_tablets(make_chromium(), server.base, CANDIDATES)
    for t in tablets:
        until(t.subjects_ready, what=f"{t.cid} ready")
    jury_post(server.base, "/jury/units/ue1/launch", {"reason": "test", "duration_s": 1800}, _national(server.base))  # fmt: skip
    for t in tablets:
        t.answer(QUESTIONS[0])  # acknowledged before the crash

    server.kill()
    for t in tablets:
        _tick(t, QUESTIONS[1])  # answered while the server is gone
        until(lambda t=t: t.visible("#offline-banner"), what=f"{t.cid}: the banner")  # type: ignore[misc]
        until(lambda t=t: t.snap()["outbox"] == 1, what=f"{t.cid}: one answer kept")  # type: ignore[misc]

    server.start()
    for t in tablets:
        until(lambda t=t: t.snap()["outbox"] == 0 and t.snap()["wsUp"], timeout_s=60,  # type: ignore[misc]
              what=f"{t.cid}: back, re-sent and reconnected")  # fmt: skip
        assert t.snap()["reconnects"] >= 1
        until(lambda t=t: not t.visible("#offline-banner"), what=f"{t.cid}: banner gone")  # type: ignore[misc]

    stored = {r["action_id"]: r for r in export(server.base, _national(server.base))}
    for t in tablets:
        receipts = t.snap()["acked"]
        assert {a["question_id"] for a in receipts} == {QUESTIONS[0].id, QUESTIONS[1].id}
        for a in receipts:
            r = stored[a["action_id"]]
            assert (r["candidate_id"], r["question_id"], r["answer"]) == (t.cid, a["question_id"], a["answer"])  # fmt: skip
    rows = jury_get(server.base, "/jury/snapshot", _national(server.base))["candidates"]
    assert {r["id"]: r["reconnects"] for r in rows if r["id"] in CANDIDATES} == dict.fromkeys(CANDIDATES, 1)  # fmt: skip
