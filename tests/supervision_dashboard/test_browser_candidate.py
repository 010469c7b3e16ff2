"""A juror pauses one candidate, resumes them, then ends their time, in real Chromium against
the real exam server with the candidate's tablet heartbeating: each action behind a reason
and a confirmation, the row following the server, the tablet told."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.supervision_dashboard.browser import login, shot, text_of, until
from tests.supervision_dashboard.conftest import JuryApi, Tablets

pytestmark = pytest.mark.browser

STATE = "sum-1"  # the summary's state line (candidate.summary)


LABELS = {
    "pause_candidate": "Suspendre le candidat",
    "resume_candidate": "Reprendre le candidat",
    "end_candidate": "Mettre fin au temps",
}


def _choose(browser: Any, kind: str) -> None:
    """Open the action dropdown (Dash 4: a popover whose options are labels), pick ``kind``."""
    option = f"//label[@role='option'][.//input[@value='{kind}']]"

    def opened() -> Any:
        found = browser.find_elements("xpath", option)
        if not found:
            browser.find_element("id", "act-kind").click()
        return found

    until(opened, what=f"{kind} offered")[0].click()
    until(lambda: LABELS[kind] in text_of(browser, "act-kind"), what=f"{kind} chosen")


def _act(browser: Any, kind: str, reason: str) -> Any:
    """Choose the action, give the reason, submit: the confirmation dialog."""
    _choose(browser, kind)
    field = browser.find_element("id", "act-reason")
    field.clear()
    field.send_keys(reason)
    browser.find_element("id", "act-submit").click()
    return until(lambda: browser.switch_to.alert, what=f"the confirmation of {kind}")


def _done(browser: Any) -> str:
    return str(until(lambda: text_of(browser, "act-done"), what="the action recorded"))


def _offered(browser: Any) -> set[str]:
    """The actions the dropdown offers now (opened, read, closed again)."""
    from selenium.webdriver.common.keys import Keys

    options = "//label[@role='option']//input"
    if not browser.find_elements("xpath", options):
        browser.find_element("id", "act-kind").click()
    found = {str(i.get_attribute("value")) for i in browser.find_elements("xpath", options)}
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    return found


def test_a_candidate_is_paused_resumed_then_their_time_ended(
    browser: Any,
    dashboard: str,
    jury_api: JuryApi,
    national_token: str,
    roster: list[dict[str, Any]],
    make_tablets: Callable[[list[str]], Tablets],
    screenshots: Path,
) -> None:
    cid = next(r["id"] for r in roster if r["centre"] == "AMU")
    tablets = make_tablets([cid]).start()
    jury_api.post("/jury/units/ue1/launch", {"reason": "ouverture"}, national_token)
    login(browser, dashboard, "centre-AMU", "centre-demo")
    browser.get(f"{dashboard}/candidate/{cid}")
    until(lambda: text_of(browser, STATE) == "En composition", what="the candidate composing")
    assert "resume_candidate" not in until(lambda: _offered(browser), what="the actions")

    dialog = _act(browser, "pause_candidate", "malaise du candidat")
    assert "Suspendre le candidat" in dialog.text and cid in dialog.text
    assert "malaise du candidat" in dialog.text
    dialog.accept()
    assert "Suspendre le candidat" in _done(browser)
    until(lambda: text_of(browser, STATE) == "En pause", what="the row paused")
    until(lambda: "suspendu seul" in text_of(browser, "act-note"), what="paused alone said")
    until(lambda: "resume_candidate" in _offered(browser), what="« Reprendre » offered")
    assert "pause_candidate" not in _offered(browser)
    until(
        lambda: any(i["kind"] == "pause" for i in tablets.instructions[cid]),
        what="the tablet told to pause",
    )
    shot(browser, screenshots, "candidate-paused.png")

    _act(browser, "resume_candidate", "candidat rétabli").accept()
    assert "Reprendre le candidat" in _done(browser)
    until(lambda: text_of(browser, STATE) == "En composition", what="the row resumed")
    until(lambda: "pause_candidate" in _offered(browser), what="« Suspendre » again")

    dialog = _act(browser, "end_candidate", "fraude avérée")
    assert f"mettre fin au temps de {cid} (AMU) maintenant, sur l'épreuve ue1" in dialog.text
    assert f"{cid} perd " in dialog.text and "de composition" in dialog.text
    assert "définitive" in dialog.text and "fraude avérée" in dialog.text
    dialog.accept()
    done = _done(browser)
    assert done.startswith(f"Temps de {cid} terminé : ") and "perdue" in done
    until(
        lambda: any(i["kind"] == "end_unit" for i in tablets.instructions[cid]),
        what="the tablet told to end the unit",
    )
    events = jury_api.get(f"/jury/candidates/{cid}/timeline", national_token)["events"]
    kinds = [e["kind"] for e in events if e["kind"] in ("candidate_pause", "candidate_resume", "end_time")]  # fmt: skip
    assert kinds == ["candidate_pause", "candidate_resume", "end_time"]
    assert all(e["actor"] == "jury:centre-AMU" for e in events if e["kind"] == "end_time")
    until(lambda: "Fin du temps imposée par le jury" in browser.page_source, what="the timeline")
    until(lambda: "end_candidate" not in _offered(browser), what="no end offered again")
    jury_api.post("/jury/units/ue1/close", {"reason": "fin"}, national_token)
