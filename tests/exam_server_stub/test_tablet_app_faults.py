"""A browser tablet against a server that answers a third of its API calls 503 + Retry-After.

The login, the subjects, the key, the answers and the hand-in are each retried with backoff
(honouring Retry-After) until they pass; nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.settings import DEFAULT_SEED
from tests.exam_server_stub.chromium import export, open_tablets, serve
from tests.supervision_dashboard.browser import until
from tests.supervision_dashboard.conftest import jury_get, jury_post
from vigie.demo import Question, generate_session

pytestmark = pytest.mark.browser
QUESTIONS: list[Question] = list(generate_session(DEFAULT_SEED).units[0].questions)
CANDIDATE = "AMU-00001"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory: Path = tmp_path_factory.mktemp("faults")
    (directory / "counts.json").write_text(json.dumps({"AMU": 2}))
    options = ["--demo-counts", str(directory / "counts.json"), "--error-rate", "0.33"]
    with serve(directory / "exam.sqlite3", *options) as base:
        yield base


def _retrying(call: Callable[[], Any]) -> Any:
    """The jury's calls go through the same knob: retried here, as the dashboard would."""
    for _ in range(50):
        try:
            return call()
        except urllib.error.HTTPError as exc:
            if exc.code != 503:
                raise
    raise AssertionError("fifty 503 in a row")


def _national(base: str) -> str:
    body = {"username": "national", "password": "national-demo"}
    token: str = _retrying(lambda: jury_post(base, "/jury/login", body))["token"]
    return token


def test_a_tablet_rides_out_injected_503s(make_chromium: Callable[..., Any], server: str) -> None:
    [t] = open_tablets(make_chromium(), server, [CANDIDATE])
    until(t.subjects_ready, timeout_s=60, what="five subjects, through the 503s")
    national = _national(server)
    _retrying(lambda: jury_post(server, "/jury/units/ue1/launch", {"reason": "t", "duration_s": 1800}, national))  # fmt: skip
    until(lambda: t.screen() == "exam", timeout_s=60, what="the exam screen, key fetched")
    for q in QUESTIONS[:3]:
        t.answer(q)
        t.next()
    t.find("#finish").click()
    t.find("#confirm-finish").click()
    until(t.handed_in, timeout_s=60, what="handed in")

    records = _retrying(lambda: export(server, national))
    receipts = t.snap()["acked"]
    assert sorted(r["action_id"] for r in records) == sorted(a["action_id"] for a in receipts)
    assert [a["question_id"] for a in receipts] == [q.id for q in QUESTIONS[:3]]
    rows = _retrying(lambda: jury_get(server, "/jury/snapshot", national))["candidates"]
    assert next(r for r in rows if r["id"] == CANDIDATE)["state"] == "finished"
