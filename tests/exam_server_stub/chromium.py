"""What the browser-tablet tests share: a real `vigie serve`, headless Chromium, a tablet window."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exam_server_stub.settings import DEFAULT_SEED
from tests.supervision_dashboard.browser import until
from tests.supervision_dashboard.conftest import stop
from vigie.demo import Question, access_code
from vigie.testing import free_port, wait_http

ROOT = Path(__file__).resolve().parents[2]
QROC_TEXT = "pneumopathie franche lobaire"


class ExamServer:
    """`vigie serve` on 127.0.0.1 (no planned extra time: the scenes launch one unit),
    on a port and a database that stay the same across a kill and a restart."""

    def __init__(self, db: Path, *options: str, tls: tuple[Path, Path] | None = None) -> None:
        self.db, self.port = db, free_port()
        self.cmd = [sys.executable, "-m", "vigie", "serve", "--port", str(self.port)]
        self.cmd += ["--db", str(db), "--tiers-temps-share", "0", *options]
        if tls is not None:
            self.cmd += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        log = (self.db.parent / "serve.log").open("ab")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_http(self.base + "/healthz", self.proc, context=_insecure())
        return self.base

    def kill(self) -> None:
        """kill -9: no close frame, no flush; what was acknowledged must be on disk."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop(self.proc)


@contextmanager
def serve(db: Path, *options: str, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    server = ExamServer(db, *options, tls=tls)
    try:
        yield server.start()
    finally:
        server.stop()


def _insecure() -> ssl.SSLContext:
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE  # a test's own self-signed certificate
    return insecure


def start_chromium(profile: Path, flags: tuple[str, ...] = ()) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1024,768",
        # Twenty windows side by side: none of them is a throttled background tab.
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
        "--disable-features=IntensiveWakeUpThrottling,CalculateNativeWinOcclusion",
        f"--user-data-dir={profile}", *flags,
    ):  # fmt: skip
        opts.add_argument(flag)
    driver = webdriver.Chrome(
        options=opts, service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    )
    driver.set_page_load_timeout(30)
    return driver


@dataclass
class Tablet:
    """One browser window playing one candidate's tablet."""

    driver: Any
    handle: str
    cid: str

    @property
    def centre(self) -> str:
        return self.cid.rsplit("-", 1)[0]

    def on(self) -> Tablet:
        from selenium.common.exceptions import NoSuchWindowException

        try:
            here = self.driver.current_window_handle
        except NoSuchWindowException:  # the window in focus was closed
            here = None
        if here != self.handle:
            self.driver.switch_to.window(self.handle)
        return self

    def snap(self) -> dict[str, Any]:
        state: dict[str, Any] = self.on().driver.execute_script(
            "return window.vigieTablet.snapshot()"
        )
        return state

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.on().driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        found: list[Any] = self.on().driver.find_elements(By.CSS_SELECTOR, css)
        return found

    def visible(self, css: str) -> bool:
        return any(e.is_displayed() for e in self.finds(css))

    def screen(self) -> str:
        return str(self.find("body").get_attribute("data-screen"))

    def on_screen(self, name: str) -> bool:
        return self.screen() == name

    def subjects_ready(self) -> bool:
        return self.screen() == "waiting" and len(self.finds("#packages li.ok")) == 5

    def deadline(self) -> str | None:
        value: str | None = self.find("#countdown").get_attribute("data-deadline")
        return value

    def handed_in(self) -> bool:
        return self.snap()["outbox"] == 0 and self.screen() in {"done", "waiting"}

    def on_question(self, qid: str) -> None:
        until(lambda: self.find("#question").get_attribute("data-question-id") == qid
              and self.finds("#q-actions"),
              what=f"{self.cid} on {qid}")  # fmt: skip

    def stored(self, qid: str) -> bool:
        """The question's nav button says the server acknowledged it (not pending)."""
        cls = self.find(f"#nav button[data-question-id='{qid}']").get_attribute("class")
        return "answered" in cls or "final" in cls

    def answer(self, q: Question) -> None:
        """Answer the question on screen through the UI, as a candidate taps it."""
        from selenium.webdriver.common.action_chains import ActionChains

        self.on_question(q.id)
        fmt = q.format.value
        if fmt == "ZAP":
            img = self.find("#question .figure img")
            for dx, dy in ((-20, -10), (15, 12)):  # from the image's centre
                ActionChains(self.driver).move_to_element_with_offset(img, dx, dy).click().perform()
            until(lambda: len(self.finds("#question .point")) == 2, what="two ZAP points")
        elif fmt == "QROC":
            self.find("#qroc-input").send_keys(QROC_TEXT)
        elif fmt == "TCS":
            self.find("#question .tcs input[data-index='3']").click()
        else:
            wanted = q.expected_count or (1 if fmt == "QRU" else 2)
            for i in range(wanted):
                self.find(f"#question .props input[data-index='{i}']").click()
        self.find("#save").click()
        if q.dossier_id is not None:
            self.find("#confirm-final").click()
        until(lambda: self.stored(q.id), what=f"{self.cid}: {q.id} acknowledged")

    def next(self) -> None:
        self.find("#next").click()


def log_in(driver: Any, page: str, cid: str) -> Tablet:
    """Open ``page`` (the app's URL, ``?centre=`` filling the centre) in the driver's current
    window and log ``cid`` in through the form, as an invigilator would."""
    t = Tablet(driver, driver.current_window_handle, cid)
    driver.get(page)
    t.find("#login-candidate").send_keys(cid)
    t.find("#login-code").send_keys(access_code(DEFAULT_SEED, cid))
    t.find("#login-submit").click()
    return t


def open_tablets(driver: Any, base: str, cids: list[str]) -> list[Tablet]:
    """One window per candidate (the first in the current one), each logged in."""
    out: list[Tablet] = []
    for n, cid in enumerate(cids):
        if n:
            driver.switch_to.new_window("window")
        out.append(log_in(driver, f"{base}/tablet/?centre={cid.rsplit('-', 1)[0]}", cid))
    return out


def export(base: str, token: str) -> list[dict[str, Any]]:
    """Every answer the server stores (the national jury's NDJSON export)."""
    req = urllib.request.Request(
        base + "/api/v1/jury/answers/export", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return [json.loads(line) for line in resp.read().splitlines() if line]
