"""The dashboard in headless Chromium against the real exam server, with tablets heartbeating."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.supervision_dashboard.browser import login, shot, text_of, until
from tests.supervision_dashboard.pdf import pdf_words

pytestmark = pytest.mark.browser


def test_login_is_refused_with_a_clear_message(dashboard: str) -> None:
    import http.cookiejar
    import re

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    # Without the form's CSRF token (a login posted from elsewhere): refused outright.
    body = urllib.parse.urlencode({"username": "national", "password": "national-demo"}).encode()
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(dashboard + "/login", data=body, timeout=10)
    assert err.value.code == 400
    with opener.open(dashboard + "/login", timeout=10) as resp:
        match = re.search(r'name="csrf_token" value="([^"]+)"', resp.read().decode())
    assert match
    body = urllib.parse.urlencode(
        {"username": "national", "password": "wrong", "csrf_token": match[1]}
    ).encode()
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(dashboard + "/login", data=body, timeout=10)
    assert err.value.code == 401
    assert "Identifiant ou mot de passe incorrect." in err.value.read().decode()
    # Dash's JSON endpoints refuse a browser that is not logged in.
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(dashboard + "/_dash-layout", timeout=10)
    assert err.value.code == 401


def test_national_counts_change_as_tablets_connect(
    browser: Any,
    dashboard: str,
    roster: list[dict[str, Any]],
    tablets: Any,
    screenshots: Path,
) -> None:
    login(browser, dashboard, "national", "national-demo")
    assert "Jury national" in text_of(browser, "role")
    until(lambda: text_of(browser, "count-total") == str(len(roster)), what="total count")
    before = int(text_of(browser, "count-not_connected"))
    tablets.start()

    def connected_count() -> bool:
        live = sum(int(text_of(browser, f"count-{s}")) for s in ("waiting", "in_progress"))
        return live >= len(tablets.ids) and int(
            text_of(browser, "count-not_connected")
        ) <= before - len(tablets.ids)

    until(connected_count, what="counts to follow the tablets")
    shot(browser, screenshots, "national.png")


def test_extra_time_granted_in_the_browser_reaches_the_tablet(
    browser: Any,
    dashboard: str,
    jury_api: Any,
    national_token: str,
    tablets: Any,
    screenshots: Path,
) -> None:
    from selenium.webdriver.common.by import By

    tablets.start()
    login(browser, dashboard, "national", "national-demo")
    unit = tablets.units[0]["unit_id"]
    try:
        jury_api.post(
            f"/jury/units/{unit}/launch",
            {"reason": "test", "duration_s": 900},
            national_token,
        )
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # 409: launched by an earlier run of this module
            raise
    cid = tablets.ids[0]
    browser.get(f"{dashboard}/candidate/{cid}")
    until(lambda: text_of(browser, "candidate-title") == cid, what="candidate page")
    minutes = browser.find_element(By.ID, "act-minutes")
    minutes.clear()
    minutes.send_keys("2")  # jurors think in minutes
    browser.find_element(By.ID, "act-reason").send_keys("Coupure réseau salle 2")
    browser.find_element(By.ID, "act-submit").click()
    alert = until(lambda: browser.switch_to.alert, what="the confirmation dialog")
    assert "2 min" in alert.text and cid in alert.text and "Coupure réseau salle 2" in alert.text
    alert.accept()
    until(lambda: browser.find_elements(By.ID, "act-done"), what="the action to be recorded")

    def received() -> list[dict[str, Any]]:
        return [
            i
            for i in tablets.instructions[cid]
            if i["kind"] == "extra_time" and i["seconds"] == 120
        ]

    (instruction,) = until(received, what="the extra_time instruction on the tablet")
    assert instruction["unit_id"] == unit and instruction["reason"] == "Coupure réseau salle 2"

    # The server recorded the juror's identity; the candidate view's timeline shows it.
    def audited() -> bool:
        rows = browser.find_elements(By.CSS_SELECTOR, "#timeline .ag-row")
        return any("Temps supplémentaire" in r.text and "jury : national" in r.text for r in rows)

    until(audited, what="the extra time in the audit timeline, with the juror's name")
    shot(browser, screenshots, "candidate.png")

    # After the unit: the procès-verbal material lists the grant, with who and why.
    browser.get(f"{dashboard}/report")

    def reported() -> bool:
        rows = browser.find_elements(By.CSS_SELECTOR, "#report-extra_time .ag-row")
        return any("Coupure réseau salle 2" in r.text for r in rows)

    until(reported, what="the extra time in the incident report")
    shot(browser, screenshots, "report.png")


def _session_cookie_payload(browser: Any) -> dict[str, Any]:
    (cookie,) = [c for c in browser.get_cookies() if c["name"] == "session"]
    value: str = cookie["value"]
    raw = value.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    if value.startswith("."):
        data = zlib.decompress(data)
    payload: dict[str, Any] = json.loads(data)
    return payload


def test_centre_juror_sees_only_their_centre(
    browser: Any, dashboard: str, roster: list[dict[str, Any]], tablets: Any, screenshots: Path
) -> None:
    from selenium.webdriver.common.by import By

    login(browser, dashboard, "centre-AMU", "centre-demo")
    assert "AMU" in text_of(browser, "role")
    until(lambda: text_of(browser, "centre-title") == "AMU", what="the centre view")
    amu = sorted(r["id"] for r in roster if r["centre"] == "AMU")

    def grid_ids() -> list[str]:
        cells = browser.find_elements(
            By.CSS_SELECTOR, "#centre-grid .ag-center-cols-container [col-id='id']"
        )
        pinned = browser.find_elements(
            By.CSS_SELECTOR, "#centre-grid .ag-pinned-left-cols-container [col-id='id']"
        )
        return sorted(c.text for c in cells + pinned if c.text)

    ids = until(
        lambda: grid_ids() if len(grid_ids()) >= min(len(amu), 10) else None, what="grid rows"
    )
    assert ids and all(i.startswith("AMU-") for i in ids)
    assert not browser.find_elements(By.ID, "heatmap")  # no national view for a centre juror
    assert not browser.find_elements(By.ID, "nav-national")
    shot(browser, screenshots, "centre.png")

    lille = next(r["id"] for r in roster if r["centre"] == "LILLE")
    browser.get(f"{dashboard}/centre/LILLE")
    until(lambda: browser.find_elements(By.ID, "forbidden"), what="refusal of another centre")
    browser.get(f"{dashboard}/candidate/{lille}")
    until(
        lambda: browser.find_elements(By.ID, "not-found"),
        what="refusal of another centre's candidate",
    )

    # The juror's token stays on the server: the cookie only names a session.
    assert set(_session_cookie_payload(browser)) <= {"sid", "lang", "_permanent"}
    # Even the exports are scoped: asking for LILLE's report gives AMU's.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
    req = urllib.request.Request(f"{dashboard}/report.csv?centre=LILLE", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=15) as resp:
        csv_text = resp.read().decode()
    assert csv_text.startswith("# scope,AMU") and "LILLE-" not in csv_text
    req = urllib.request.Request(f"{dashboard}/report.pdf?centre=LILLE", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=15) as resp:
        assert resp.headers["Content-Type"] == "application/pdf"
        assert "proces-verbal-journee-AMU.pdf" in resp.headers["Content-Disposition"]
        pdf_text = pdf_words(resp.read())
    assert "AMU" in pdf_text and "LILLE-" not in pdf_text and "Signature" in pdf_text


def test_english_interface(browser: Any, dashboard: str) -> None:
    login(browser, dashboard, "observer", "observer-demo")
    browser.get(dashboard + "/lang/en?next=/")
    until(lambda: "Observer" in text_of(browser, "role"), what="the English header")
    until(lambda: text_of(browser, "count-total"), what="the national counts")
    from selenium.webdriver.common.by import By

    # An observer reads only: no action controls anywhere.
    assert not browser.find_elements(By.ID, "act-submit")
    browser.get(dashboard + "/lang/fr?next=/")
