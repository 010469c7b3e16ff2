"""certify(): the two report files, written from a record as the runner saves it."""

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.certify import REPORT_HTML, REPORT_JSON, certify
from simulator.record import RunRecord

MakeRun = Callable[..., RunRecord]


def _round_trip(record: RunRecord, tmp_path: Path) -> RunRecord:
    # Judge what the runner saved, not the object in memory: the file is the contract.
    record.save(tmp_path / "record.json")
    return RunRecord.load(tmp_path / "record.json")


def test_a_failed_run_writes_both_reports_with_the_contract_fields(
    make_run: MakeRun, tmp_path: Path
) -> None:
    record = _round_trip(make_run(cap=8000), tmp_path)
    verdict = certify(record, tmp_path / "report")
    report = json.loads((tmp_path / "report" / REPORT_JSON).read_text())
    assert report["verdict"] == "failed" == verdict.verdict
    assert report["max_connected"] == 8000 and report["planned_tablets"] == 9800
    assert report["knee"]["cause"] == "connection cap"
    assert report["knee"]["wave"] == 4 and 8000 <= report["knee"]["connected"] <= 8100
    assert report["knee"]["t"] > record.waves[3].started_at
    assert report["generator_bound"] is False
    assert report["connection_cap"] == 8000
    assert [w["number"] for w in report["waves"]] == [1, 2, 3, 4]
    wave4 = report["waves"][3]
    assert wave4["slos"]["connection_success_min"]["passed"] is False
    assert wave4["slos"]["heartbeat_p99_ms"]["value"] is not None
    assert wave4["failures"]["connection_cap"] > 0
    assert report["scenario"] == "ecnp-2022-01-21" and report["target"].startswith(
        "http://127.0.0.1"
    )
    assert report["server_knobs"] == {"connection_cap": 8000}
    assert report["duration_s"] == record.duration_s()


def test_a_certified_run_says_so_in_both_reports(make_run: MakeRun, tmp_path: Path) -> None:
    verdict = certify(_round_trip(make_run(), tmp_path), tmp_path)
    report = json.loads((tmp_path / REPORT_JSON).read_text())
    assert report["verdict"] == "certified" and report["knee"] is None
    assert report["max_connected"] == 9800
    assert all(w["passed"] for w in report["waves"])
    page = (tmp_path / REPORT_HTML).read_text()
    assert "Certified for 9,800 simultaneous tablets" in page
    assert verdict.exit_code == 0


def test_the_html_is_self_contained_and_carries_the_verdict(
    make_run: MakeRun, tmp_path: Path
) -> None:
    certify(make_run(cap=8000), tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)  # nothing fetched, ever
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']https?:", page, re.I)
    assert page.count("Plotly.newPlot") == 5  # five charts...
    assert page.count("plotly.js v") == 1  # ...on one inlined bundle
    assert "Failed at 8,000 connected tablets in wave 4" in page
    assert "connection cap (8,000)" in page


def test_names_from_the_scenario_are_escaped(make_run: MakeRun, tmp_path: Path) -> None:
    record = make_run()
    record.waves[0].name = "<script>alert(1)</script>"
    record.notes.append("a & b <i>")
    certify(record, tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &amp; b &lt;i&gt;" in page


def test_certifying_again_replaces_the_reports(make_run: MakeRun, tmp_path: Path) -> None:
    certify(make_run(cap=8000), tmp_path)
    certify(make_run(), tmp_path)
    assert json.loads((tmp_path / REPORT_JSON).read_text())["verdict"] == "certified"
    assert sorted(p.name for p in tmp_path.iterdir()) == [REPORT_HTML, REPORT_JSON]


@pytest.mark.browser
def test_the_report_draws_its_charts_offline_in_chromium(make_run: MakeRun, tmp_path: Path) -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        missing = "needs chromium and chromedriver (apt: chromium chromium-driver)"
        if os.environ.get("CI") == "true":  # CI installs them: missing is a failure there
            pytest.fail(missing)
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    certify(make_run(cap=8000), tmp_path)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    # No network in the browser either: the page must draw from what it carries.
    options.add_argument("--proxy-server=127.0.0.1:9")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.get((tmp_path / REPORT_HTML).as_uri())
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.querySelectorAll('.main-svg').length") > 0
        )
        drawn = driver.execute_script(
            "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
        )
        banner = driver.execute_script("return document.querySelector('.banner').innerText")
        assert drawn >= 5
        assert banner.startswith("Failed at 8,000 connected tablets in wave 4")
    finally:
        driver.quit()


def test_nan_from_a_scrape_neither_crashes_nor_leaks_into_the_json(
    make_run: MakeRun, tmp_path: Path
) -> None:
    record = make_run(cap=8000)
    for sample in record.samples[-30:]:
        sample.server["event_loop_lag_p99_s"] = float("nan")
        sample.server["websockets_open"] = float("nan")
    record.samples[-1].generator_cpu = float("inf")
    verdict = certify(record, tmp_path)
    text = (tmp_path / REPORT_JSON).read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["knee"]["cause"] == "connection cap"
    assert not verdict.certified


def test_a_run_that_died_at_once_still_gets_a_failed_report(tmp_path: Path) -> None:
    # The runner crashed before its first sample: the report must still say so plainly.
    record = RunRecord(
        scenario="smoke",
        scenario_path="scenarios/smoke.yaml",
        target="http://127.0.0.1:9",
        started_at=1_700_000_000.0,
        slos={"heartbeat_p99_ms": 1000.0},
    )
    verdict = certify(record, tmp_path)
    report = json.loads((tmp_path / REPORT_JSON).read_text())
    assert report["verdict"] == "failed" and report["max_connected"] == 0
    assert report["knee"] is None and report["waves"] == []
    assert "the run did not finish (no end time recorded)" in verdict.reasons
    assert verdict.headline in (tmp_path / REPORT_HTML).read_text()
