"""report.html's generator figures: its memory beside its CPU, in the run section and the chart."""

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

from simulator.certify import REPORT_HTML, REPORT_JSON, certify
from simulator.record import RunRecord

MakeRun = Callable[..., RunRecord]
MEMORY_TRACE = "generator memory (all processes, MiB)"


def _run_section(page: str) -> str:
    return html.unescape(page[page.index("<h2>Run</h2>") :])


def test_the_run_section_and_the_chart_show_the_generator_memory(
    make_run: MakeRun, tmp_path: Path
) -> None:
    record = make_run()  # 9,800 tablets connect
    for sample in record.samples:
        sample.generator_rss_mb = 100.0 + sample.sockets_open * 0.05
    certify(record, tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    assert (
        "peak 590 MiB, all generator processes together (62 KiB per tablet, 9,800 tablets)"
        in _run_section(page)
    )
    # A trace of its own on a second axis of the generator chart (its points hold no brace).
    assert re.search(re.escape(f'"name":"{MEMORY_TRACE}"') + r'[^}]*"yaxis":"y2"', page)
    assert "MiB resident" in page
    generator = json.loads((tmp_path / REPORT_JSON).read_text())["generator"]
    assert generator["peak_rss_mb"] == 590.0 and generator["tablets_at_rss_peak"] == 9800
    assert generator["rss_per_tablet_kib"] == 61.6


def test_a_record_without_memory_says_it_was_not_measured(
    make_run: MakeRun, tmp_path: Path
) -> None:
    certify(make_run(), tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    assert "<dt>generator memory</dt><dd>not measured</dd>" in page
    assert MEMORY_TRACE not in page
    assert json.loads((tmp_path / REPORT_JSON).read_text())["generator"]["peak_rss_mb"] is None


def test_the_run_section_links_the_results_or_says_why_there_are_none(
    make_run: MakeRun, tmp_path: Path
) -> None:
    record = make_run()
    record.checks["correction"] = {
        "unit_id": "ue1",
        "seconds": 1.49,
        "results": "results/classement.html",
        "error": None,
        "summary": "9800 candidates x 97 questions (ue1) under vigie-edn v1.0",
    }
    certify(record, tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    assert '(<a href="results/classement.html">the ranking</a>)' in page
    assert "corrected in 1.5 s: 9800 candidates" in _run_section(page)
    record.checks["correction"] = {"results": None, "error": "ue1 is not closed <yet>"}
    certify(record, tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    assert "<dt>results</dt><dd>not corrected: ue1 is not closed &lt;yet&gt;</dd>" in page
