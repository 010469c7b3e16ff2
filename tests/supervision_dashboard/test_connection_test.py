"""The Monday connection test in real headless Chromium: three tablets of AMU open
/tablet/connection-test.html, run the test, and the jury sees three tablets ready."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from tests.supervision_dashboard.browser import cell, login, shot, until

pytestmark = pytest.mark.browser
# iPads held both ways, and a 1024x768 Chromium tablet
SIZES = ((768, 1024), (1024, 768), (768, 1024))


def _state(browser: Any, handle: str) -> str:
    from selenium.webdriver.common.by import By

    browser.switch_to.window(handle)
    return str(browser.find_element(By.ID, "status").get_attribute("data-state"))


def _finished(browser: Any, handle: str) -> bool:
    return _state(browser, handle) in ("done", "warning", "error")


def test_three_tablets_run_the_test_and_the_jury_sees_them_ready(
    browser: Any,
    exam_server: str,
    dashboard: str,
    jury_api: Any,
    national_token: str,
    screenshots: Path,
) -> None:
    from selenium.webdriver.common.by import By

    (amu,) = jury_api.get("/jury/connection-test?centre=AMU", national_token)["centres"]
    assert amu["tablets"] == 0 and amu["test_code"]
    handles = []
    for n, (width, height) in enumerate(SIZES, start=1):
        browser.switch_to.new_window("window")
        browser.set_window_size(width, height)
        browser.get(f"{exam_server}/tablet/connection-test.html?centre=AMU&tablet=Salle-1-{n}")
        until(lambda: browser.find_elements(By.ID, "test-code"), what="the test page")
        browser.find_element(By.ID, "test-code").send_keys(amu["test_code"].lower())
        browser.find_element(By.ID, "start").click()
        handles.append(browser.current_window_handle)
    for handle in handles:  # twenty probes a second apart: about 25 s each, side by side
        until(functools.partial(_finished, browser, handle), 90, "a report")
        assert _state(browser, handle) == "done", browser.find_element(By.ID, "status").text
        assert browser.find_element(By.ID, "result-sha").text == "conforme"
        # nothing runs off the side of a tablet held either way
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    shot(browser, screenshots, "connection-test.png")

    doc = jury_api.get("/jury/connection-test?centre=AMU", national_token)
    (amu,) = doc["centres"]
    assert (amu["tablets"], amu["ready"], amu["reconnects"]) == (3, 3, 0)
    assert 0 < amu["rtt_p50_ms"] <= amu["rtt_p95_ms"] <= amu["rtt_max_ms"] < 1000
    assert 0 < amu["download_p50_s"] <= amu["download_max_s"] < 30
    assert amu["throughput_min_mbps"] > 0.1
    assert len(amu["slowest"]) == 3
    tablets = {t["tablet"]: t for t in doc["tablets"]}
    assert set(tablets) == {"Salle-1-1", "Salle-1-2", "Salle-1-3"}
    for t in tablets.values():
        assert t["sha256_ok"] and t["probes_sent"] == t["probes_answered"] == 20
        assert "Chrome" in t["user_agent"] and t["download_bytes"] > 100_000
        assert t["battery"] is None or 0 <= t["battery"] <= 100
    for handle in handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(handles[0])
    browser.set_window_size(1500, 1100)

    # the centre's jury: its own centre only, three tablets ready, the export for its report
    login(browser, dashboard, "centre-AMU", "centre-demo")
    browser.find_element(By.ID, "nav-conntest").click()
    until(lambda: "3 / 3" in cell(browser, "conntest-centres", "AMU", "ready"), what="AMU ready")
    assert cell(browser, "conntest-centres", "AMU", "test_code") == amu["test_code"]
    rows = browser.find_elements(
        By.CSS_SELECTOR, "#conntest-centres .ag-center-cols-container .ag-row"
    )
    assert len(rows) == 1
    slowest = amu["slowest"][0]["tablet"]
    assert cell(browser, "conntest-slowest", f"AMU/{slowest}", "ready") == "prête"
    shot(browser, screenshots, "connection-test-jury.png")
    csv_text = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/connection-test.csv').then((r) => r.text()).then(done, (e) => done(String(e)));"
    )
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("centre,tablet,") and len(lines) == 4
    assert all(line.startswith("AMU,Salle-1-") for line in lines[1:])


# The first echo socket the page opens is cut after its fifth echo, as a flaky Wi-Fi would.
CUT_FIRST_SOCKET = """
(() => {
  const Real = window.WebSocket;
  let opened = 0;
  window.WebSocket = function (url, protocols) {
    const ws = new Real(url, protocols);
    if (String(url).includes('/connection-test/ws') && ++opened === 1) {
      let echoes = 0;
      ws.addEventListener('message', () => { if (++echoes === 5) ws.close(); });
    }
    return ws;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def test_a_tablet_whose_socket_drops_reconnects_and_says_so(
    browser: Any, exam_server: str, jury_api: Any, national_token: str
) -> None:
    from selenium.webdriver.common.by import By

    (amu,) = jury_api.get("/jury/connection-test?centre=AMU", national_token)["centres"]
    first = browser.current_window_handle
    browser.switch_to.new_window("window")
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CUT_FIRST_SOCKET})
    browser.get(f"{exam_server}/tablet/connection-test.html?centre=AMU&tablet=Salle-2-1")
    browser.find_element(By.ID, "test-code").send_keys(amu["test_code"])
    browser.find_element(By.ID, "start").click()
    handle = browser.current_window_handle
    until(functools.partial(_finished, browser, handle), 90, "a report")
    assert browser.find_element(By.ID, "result-reconnects").text == "1"
    doc = jury_api.get("/jury/connection-test?centre=AMU", national_token)
    (tablet,) = [t for t in doc["tablets"] if t["tablet"] == "Salle-2-1"]
    assert tablet["reconnects"] == 1 and tablet["probes_sent"] == 20
    assert 15 <= tablet["probes_answered"] <= 20  # what was in flight on the cut socket is lost
    assert doc["centres"][0]["reconnects"] >= 1
    browser.close()
    browser.switch_to.window(first)
