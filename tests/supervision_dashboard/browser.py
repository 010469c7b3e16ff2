"""What the browser tests share: waiting for the page, logging in, reading grids."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def until(check: Callable[[], Any], timeout_s: float = 25.0, what: str = "") -> Any:
    """``check()`` once it is truthy; fails with the last value or error past the timeout."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # the page is still rendering
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what or check}: {last!r}")


def login(browser: Any, dashboard: str, username: str, password: str) -> None:
    """Log in through the form; a second try if the first left the browser on the form.

    On a loaded CI machine the first post can come back as the form again (its CSRF
    cookie not yet set, or the exam server slow to answer the jury login): the failure
    then says where the browser is and what the form said, not only that no header came.
    """
    from selenium.webdriver.common.by import By

    for attempt in (1, 2):
        browser.get(dashboard + "/logout")
        browser.get(dashboard + "/login")
        until(lambda: browser.find_elements(By.ID, "login-button"), what="the login form")
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(password)
        browser.find_element(By.ID, "login-button").click()
        try:
            until(lambda: browser.find_elements(By.ID, "whoami"), what="the dashboard header")
            return
        except AssertionError:
            errors = browser.find_elements(By.ID, "login-error")
            said = errors[0].text if errors else ""
            where = f"at {browser.current_url!r}, the form said {said!r}"
            if attempt == 2:
                raise AssertionError(f"no dashboard header after two logins, {where}") from None


def text_of(browser: Any, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.ID, element_id).text)


def cell(browser: Any, grid: str, row_id: str, col: str) -> str:
    """The text of one AG Grid cell (row id, column id)."""
    from selenium.webdriver.common.by import By

    found = browser.find_elements(
        By.CSS_SELECTOR, f"#{grid} .ag-row[row-id='{row_id}'] [col-id='{col}']"
    )
    return " ".join(str(c.text) for c in found if c.text)


def shot(browser: Any, directory: Path, name: str) -> None:
    time.sleep(0.5)  # let the last refresh paint
    assert browser.save_screenshot(str(directory / name))
