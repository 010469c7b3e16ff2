"""Certification: judge a run record's SLOs wave by wave, find the knee, write reports.

``certify(record, report_dir)`` is what ``vigie certify`` and ``vigie rehearse`` call once
the fleet has run; it writes ``report.json`` and a self-contained ``report.html`` and
returns the :class:`Verdict` (``verdict.exit_code`` is the command's exit status).
"""

from __future__ import annotations

from pathlib import Path

from simulator.certify.generator import DEFAULT_CPU_LIMIT
from simulator.certify.knee import Cause, Knee
from simulator.certify.report_html import REPORT_HTML, write_html
from simulator.certify.report_json import REPORT_JSON, write_json
from simulator.certify.slo import Slo, parse_slo, parse_slos
from simulator.certify.verdict import Verdict, decide
from simulator.record import RunRecord

__all__ = [
    "REPORT_HTML",
    "REPORT_JSON",
    "Cause",
    "Knee",
    "Slo",
    "Verdict",
    "certify",
    "decide",
    "parse_slo",
    "parse_slos",
]


def certify(
    record: RunRecord,
    report_dir: Path,
    generator_cpu_limit: float = DEFAULT_CPU_LIMIT,
) -> Verdict:
    """Judge ``record`` and write ``report.json`` and ``report.html`` into ``report_dir``."""
    verdict = decide(record, generator_cpu_limit)
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    write_json(verdict, report_dir)
    write_html(verdict, report_dir)
    return verdict
