"""The national jury launches, closes and replaces units in real Chromium, against the real
exam server; centre jurors and observers neither see the controls nor reach them by a
forged request."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from exam_server_stub.settings import DEFAULT_SEED
from tests.supervision_dashboard.browser import login, shot, text_of, until
from tests.supervision_dashboard.conftest import JuryApi
from vigie.demo import access_code

pytestmark = pytest.mark.browser


def _click_unit(browser: Any, unit: str) -> None:
    """Click the unit's action button; retried when the table was redrawn under the click."""
    path = f"//tr[@id='unit-row-{unit}']//button"
    until(lambda: browser.find_element("xpath", path).click() or True, what=f"{unit}'s button")


def _reason(browser: Any, element: str, text: str) -> None:
    field = browser.find_element("id", element)
    field.clear()
    field.send_keys(text)


def _dialog(browser: Any) -> Any:
    return until(lambda: browser.switch_to.alert, what="the confirmation dialog")


def _launched(jury_api: JuryApi, token: str) -> set[str]:
    events = jury_api.get("/jury/incidents", token)["events"]
    return {e["data"]["unit_id"] for e in events if e["kind"] == "launch"}


def _finish(base: str, cid: str, unit: str) -> None:
    """The candidate hands the unit in (the tablet's HTTP call), ending their extra time."""
    body = {"candidate_id": cid, "centre": cid.rsplit("-", 1)[0], "access_code": access_code(DEFAULT_SEED, cid)}  # fmt: skip
    api = JuryApi(base)
    token = api.post("/login", body)["token"]
    api.post(f"/units/{unit}/finish", {"action_id": uuid.uuid4().hex, "client_ts": 0.0}, token)


def test_centre_jurors_and_observers_have_no_unit_controls(
    browser: Any, dashboard: str, jury_api: JuryApi, national_token: str
) -> None:
    from selenium.webdriver.common.by import By

    login(browser, dashboard, "centre-AMU", "centre-demo")
    until(lambda: text_of(browser, "centre-title") == "AMU", what="the centre view")
    assert not browser.find_elements(By.ID, "units-panel")
    login(browser, dashboard, "observer", "observer-demo")
    until(lambda: browser.find_elements(By.ID, "heatmap"), what="the national view")
    assert not browser.find_elements(By.ID, "units-panel")
    browser.get(dashboard + "/results")
    until(lambda: browser.find_elements(By.ID, "results-refused"), what="the results refused")
    assert not browser.find_elements(By.ID, "replace-panel")

    # A forged Dash request with the observer's session: refused by the dashboard itself.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    headers = {"Cookie": cookie, "Content-Type": "application/json"}
    req = urllib.request.Request(dashboard + "/_dash-dependencies", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        deps = json.loads(resp.read())
    output = next(d["output"] for d in deps if "units-reason.value" in d["output"])
    body = {
        "output": output,
        "outputs": [
            dict(zip(("id", "property"), p.split(".", 1), strict=True))
            for p in output.strip(".").split("...")
        ],
        "inputs": [{"id": "units-confirm", "property": "submit_n_clicks", "value": 1}],
        "state": [
            {
                "id": "units-pending",
                "property": "data",
                "value": {"unit": "lca2", "action": "launch"},
            },
            {"id": "units-reason", "property": "value", "value": "forgé"},
            {"id": "units-version", "property": "data", "value": 0},
        ],
        "changedPropIds": ["units-confirm.submit_n_clicks"],
    }
    req = urllib.request.Request(dashboard + "/_dash-update-component", json.dumps(body).encode(), headers)  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert "réservés au jury national" in resp.read().decode()
    assert "lca2" not in _launched(jury_api, national_token)


def test_the_national_jury_launches_and_closes_units(
    browser: Any,
    dashboard: str,
    exam_server: str,
    jury_api: JuryApi,
    national_token: str,
    roster: list[dict[str, Any]],
    screenshots: Path,
) -> None:
    login(browser, dashboard, "national", "national-demo")
    until(lambda: text_of(browser, "unit-state-ue1") == "Non lancée", what="ue1 not launched")
    assert text_of(browser, "unit-state-lca2") == "Non lancée"
    _click_unit(browser, "ue1")
    until(lambda: "motif est obligatoire" in text_of(browser, "units-msg"), what="a reason asked")
    _reason(browser, "units-reason", "ouverture nationale")
    _click_unit(browser, "ue1")
    dialog = _dialog(browser)
    assert "Lancer l'épreuve ue1 (Unité 1, 3 h 00 min)" in dialog.text
    assert "ouverture nationale" in dialog.text
    dialog.accept()
    until(lambda: "Épreuve ue1 lancée" in text_of(browser, "units-done"), what="the launch")
    until(lambda: text_of(browser, "unit-state-ue1") == "En cours", what="ue1 running")

    # One candidate gets 3 min: the close must say that they keep them.
    cid = roster[0]["id"]
    grant = {"unit_id": "ue1", "seconds": 180, "reason": "tiers-temps", "candidate_id": cid}
    jury_api.post("/jury/extra-time", grant, national_token)
    _reason(browser, "units-reason", "fin de l'épreuve")

    def close_dialog_names_them() -> Any:
        _click_unit(browser, "ue1")
        dialog = _dialog(browser)
        if cid in dialog.text:
            return dialog
        dialog.dismiss()  # the feed had not brought the grant yet
        time.sleep(1)
        return None

    dialog = until(close_dialog_names_them, what="the close naming who keeps extra time")
    assert "Clore l'épreuve ue1" in dialog.text and "1 candidat(s) gardent" in dialog.text
    assert f"{cid} ({cid.rsplit('-', 1)[0]}, +3 min)" in dialog.text
    dialog.accept()
    done = until(lambda: text_of(browser, "units-done"), what="the close")
    assert "Épreuve ue1 close" in done and f"{cid} (jusqu'à" in done and "composent encore" in done
    until(lambda: text_of(browser, "unit-state-ue1") == "Close", what="ue1 closed")
    shot(browser, screenshots, "units.png")

    # The next launch is refused while they still work: the server's answer, in French.
    # At once, not after a feed poll: the others' time ended at the close.
    assert "120 candidat" not in text_of(browser, "unit-times-ue1")
    until(lambda: "1 candidat(s) composent encore" in text_of(browser, "unit-times-ue1"), what="the pending extension on ue1")  # fmt: skip
    _reason(browser, "units-reason", "deuxième épreuve")
    _click_unit(browser, "ue2")
    dialog = _dialog(browser)
    assert "Lancer l'épreuve ue2" in dialog.text and "Attention : 1 candidat(s)" in dialog.text
    assert cid in dialog.text and "refusera ce lancement" in dialog.text
    dialog.accept()
    until(lambda: "temps supplémentaire de l'épreuve précédente" in text_of(browser, "units-msg"), what="the refusal")  # fmt: skip
    assert "Unit" not in text_of(browser, "units-msg") and "ue2" not in _launched(jury_api, national_token)  # fmt: skip

    _finish(exam_server, cid, "ue1")
    until(lambda: "composent" not in text_of(browser, "unit-times-ue1"), what="ue1 over for all")
    _click_unit(browser, "ue2")
    _dialog(browser).accept()
    until(lambda: "Épreuve ue2 lancée" in text_of(browser, "units-done"), what="ue2 launched")
    until(lambda: text_of(browser, "unit-state-ue2") == "En cours", what="ue2 running")
    _reason(browser, "units-reason", "fin de la deuxième épreuve")
    _click_unit(browser, "ue2")
    dialog = _dialog(browser)
    assert "Aucun candidat n'a de temps supplémentaire" in dialog.text
    dialog.accept()
    until(lambda: "Aucun candidat ne compose" in text_of(browser, "units-done"), what="ue2 closed")


def _choose(browser: Any, dropdown: str, value: str) -> None:
    """Open a dcc.Dropdown (Dash 4: a popover whose options are labels) and pick ``value``."""
    option = f"//label[@role='option'][.//input[@value='{value}']]"

    def opened() -> Any:
        found = browser.find_elements("xpath", option)
        if not found:
            browser.find_element("id", dropdown).click()
        return found

    until(opened, what=f"{value} offered in {dropdown}")[0].click()
    until(lambda: value in text_of(browser, dropdown), what=f"{value} chosen in {dropdown}")


def test_the_national_jury_replaces_a_cancelled_unit_with_a_backup(
    browser: Any, dashboard: str, screenshots: Path
) -> None:
    login(browser, dashboard, "national", "national-demo")
    browser.get(dashboard + "/results")
    until(lambda: text_of(browser, "results-line"), what="the results")
    browser.find_element("id", "replace-submit").click()
    until(lambda: "Choisissez" in text_of(browser, "replace-msg"), what="pick the units first")
    _choose(browser, "replace-unit", "ue1")
    _choose(browser, "replace-backup", "ue2")
    browser.find_element("id", "replace-submit").click()
    until(lambda: "motif" in text_of(browser, "replace-msg").lower(), what="the reason asked")
    _reason(browser, "replace-reason", "incident national sur ue1")
    browser.find_element("id", "replace-submit").click()
    dialog = _dialog(browser)
    assert "Annuler l'épreuve ue1 (Unité 1)" in dialog.text
    assert "l'épreuve de secours ue2 (Unité 2)" in dialog.text and "ue2 compte à sa place" in dialog.text  # fmt: skip
    assert "incident national sur ue1" in dialog.text
    dialog.accept()
    done = until(lambda: text_of(browser, "replace-done"), what="the replacement recorded")
    assert done == "Épreuve ue1 annulée : ue2 compte à sa place (décision de national)."
    decided = until(lambda: "ue1 remplacée par ue2" in text_of(browser, "results-decisions") and text_of(browser, "results-decisions"), what="the decision applied")  # fmt: skip
    assert "incident national sur ue1" in decided
    until(
        lambda: "ue1 annulée : ue2 compte à sa place" in text_of(browser, "replace-known"),
        what="listed",
    )
    shot(browser, screenshots, "replace.png")

    browser.get(dashboard + "/")
    until(lambda: text_of(browser, "unit-state-ue1") == "Annulée et remplacée", what="ue1 replaced")  # fmt: skip
    assert "compte à la place de ue1" in text_of(browser, "unit-row-ue2")
