"""The results page in real Chromium: sealed until the close, then marks, the question
analysis, the documents to sign, and a neutralisation that recomputes the ranking."""

from __future__ import annotations

import json
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.settings import DEFAULT_SEED
from tests.supervision_dashboard.browser import login, shot, text_of, until
from tests.supervision_dashboard.conftest import JuryApi
from vigie.demo import access_code, generate_session

pytestmark = pytest.mark.browser
UNIT = "ue1"
QUESTIONS = [q for q in generate_session(DEFAULT_SEED).units[0].questions if not q.dossier_id][:4]


def _sit(base: str, cid: str, choice: int) -> None:
    """One candidate answers a few isolated questions over HTTP (the docs' flow) and hands in."""
    body = {"candidate_id": cid, "centre": cid.rsplit("-", 1)[0], "access_code": access_code(DEFAULT_SEED, cid)}  # fmt: skip
    token = _post(base, "/login", body)["token"]
    for q in QUESTIONS:
        fmt = q.format.value
        answer: dict[str, Any] = (
            {"text": "pneumopathie"} if fmt == "QROC"
            else {"choices": list(range(q.expected_count))} if q.expected_count
            else {"choices": [choice % len(q.propositions)]}
        )  # fmt: skip
        _post(base, f"/units/{UNIT}/answers", {"action_id": uuid.uuid4().hex, "question_id": q.id, "answer": answer, "final": False, "client_ts": 0.0}, token)  # fmt: skip
    _post(base, f"/units/{UNIT}/finish", {"action_id": uuid.uuid4().hex, "client_ts": 0.0}, token)


def _post(base: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})  # fmt: skip
    req = urllib.request.Request(base + "/api/v1" + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def sat(exam_server: str, jury_api: JuryApi, national_token: str, roster: list[dict[str, Any]]) -> list[str]:  # fmt: skip
    jury_api.post(f"/jury/units/{UNIT}/launch", {"reason": "test", "duration_s": 600}, national_token)  # fmt: skip
    ids = [r["id"] for r in roster][:6]
    for n, cid in enumerate(ids):
        _sit(exam_server, cid, n)
    return ids


def test_results_are_sealed_until_the_close(browser: Any, dashboard: str, sat: list[str]) -> None:
    login(browser, dashboard, "national", "national-demo")
    browser.get(dashboard + "/results")
    until(lambda: "après la clôture" in text_of(browser, "results-error"), what="sealed")


def test_after_the_close_the_jury_reads_marks_and_the_analysis(
    browser: Any, dashboard: str, jury_api: JuryApi, national_token: str, screenshots: Path
) -> None:
    jury_api.post(f"/jury/units/{UNIT}/close", {"reason": "test"}, national_token)
    login(browser, dashboard, "national", "national-demo")
    browser.get(dashboard + "/results")
    line = until(lambda: text_of(browser, "results-line"), what="the summary line")
    assert "120 candidats" in line and "6 classés" in line
    assert "Aucune décision" in text_of(browser, "results-decisions")
    bars = until(lambda: browser.find_elements("css selector", "#results-marks .bars path"), what="bars")  # fmt: skip
    assert bars
    rows = until(lambda: browser.find_elements("css selector", "#results-questions .ag-row"), what="rows")  # fmt: skip
    assert len(rows) >= 10  # virtualised: the rendered ones
    shot(browser, screenshots, "results.png")


def test_the_documents_to_sign_are_the_servers(browser: Any, dashboard: str) -> None:
    login(browser, dashboard, "national", "national-demo")
    browser.get(dashboard + "/results-doc/classement.html")
    assert "Classement" in browser.page_source


def test_a_neutralisation_is_confirmed_recorded_and_applied(browser: Any, dashboard: str) -> None:
    login(browser, dashboard, "national", "national-demo")
    browser.get(dashboard + "/results")
    until(lambda: text_of(browser, "results-line"), what="the results")
    browser.find_element("id", "results-neutralise").click()
    until(lambda: "Choisissez" in text_of(browser, "results-msg"), what="pick a question first")
    first = "#results-questions .ag-row[row-index='0'] [col-id='question_id']"
    cell = until(lambda: browser.find_elements("css selector", first), what="the first row")[0]
    target = cell.text
    assert target.startswith(f"{UNIT}-q")
    cell.click()  # a click on the row selects it
    browser.find_element("id", "results-neutralise").click()
    until(lambda: "motif" in text_of(browser, "results-msg").lower(), what="the reason asked")
    browser.find_element("id", "results-reason").send_keys("énoncé ambigu")
    browser.find_element("id", "results-neutralise").click()
    dialog = until(lambda: browser.switch_to.alert, what="the confirmation dialog")
    assert target in dialog.text and "énoncé ambigu" in dialog.text
    dialog.accept()
    until(lambda: "neutralisée" in text_of(browser, "results-done"), what="done")
    # the results are computed again after the decision (a moment later than the message)
    decided = until(lambda: target in text_of(browser, "results-decisions") and text_of(browser, "results-decisions"), what="the decision listed")  # fmt: skip
    assert "national" in decided and "énoncé ambigu" in decided


def test_a_centre_juror_has_no_results(browser: Any, dashboard: str) -> None:
    login(browser, dashboard, "centre-AMU", "centre-demo")
    assert not browser.find_elements("id", "nav-results")
    browser.get(dashboard + "/results")
    until(lambda: "jury national" in text_of(browser, "results-refused"), what="the refusal")
    browser.get(dashboard + "/results-doc/classement.html")
    assert "Classement" not in browser.page_source
