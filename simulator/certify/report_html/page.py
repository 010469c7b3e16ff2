"""``report.html``: the verdict for people, one self-contained file.

It is opened offline on exam-preparation day (no internet in the rooms where it is read),
so plotly's bundle is inlined once in the head and every chart uses it; nothing is
fetched from anywhere.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly.offline

from simulator.certify import real_tablets, reconciliation
from simulator.certify.report_html import charts, sections
from simulator.certify.report_json import _atomic_write
from simulator.certify.verdict import Verdict

REPORT_HTML = "report.html"


def write_html(verdict: Verdict, report_dir: Path) -> Path:
    path = report_dir / REPORT_HTML
    _atomic_write(path, render(verdict))
    return path


def render(verdict: Verdict) -> str:
    if not verdict.ran:
        return _page(verdict, _not_run_body(verdict))
    figures = [
        charts.connected(verdict),
        charts.heartbeat(verdict),
        charts.wave_latency(verdict),
        charts.failures(verdict),
        charts.generator(verdict),
    ]
    body = "\n".join(
        [
            sections.banner(verdict),
            sections.reasons(verdict),
            "<h2>Waves and objectives</h2>",
            sections.wave_table(verdict),
            "<h2>Answers reconciled</h2>",
            reconciliation.html_section(verdict.record.reconciliation),
            *sections.faults_section(verdict),
            *real_tablets.html_section(verdict.record.real_tablets),
            "<h2>Charts</h2>",
            *(charts.embed(fig) for fig in figures),
            "<h2>Run</h2>",
            sections.run_details(verdict),
        ]
    )
    return _page(verdict, body)


def _plotly_script(verdict: Verdict) -> str:
    if not verdict.ran:  # no chart: no 4 MB of plotly
        return ""
    return f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>'


def _not_run_body(v: Verdict) -> str:
    """No wave started: what the target check found, and nothing that would look measured."""
    return "\n".join(
        [
            sections.banner(v),
            (
                '<div class="reasons"><p>No wave was started: the target check found that the '
                "server does not match the scenario.</p><ul>"
                + "".join(f"<li>{html.escape(p)}</li>" for p in v.record.target_problems)
                + "</ul></div>"
            ),
            "<h2>Run</h2>",
            sections.run_details(v),
        ]
    )


def _page(verdict: Verdict, body: str) -> str:
    r = verdict.record
    title = f"vigie certification: {r.scenario} ({verdict.verdict})"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
{_plotly_script(verdict)}
</head><body><main>
<p class="kicker">vigie capacity certification · {html.escape(r.scenario)} · {sections.utc(r.started_at)}</p>
{body}
</main></body></html>
"""


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       background: #f6f8fa; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
.kicker { color: #57606a; margin: 0 0 8px; }
.banner { border-radius: 8px; padding: 20px 24px; color: white; font-size: 1.5em;
          font-weight: 600; line-height: 1.3; }
.banner.certified { background: #1a7f37; } .banner.failed { background: #cf222e; }
.banner small { display: block; font-size: 0.6em; font-weight: 400; margin-top: 6px; opacity: .95; }
.reasons { background: white; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 24px; margin-top: 12px; }
h2 { margin-top: 32px; }
table { border-collapse: collapse; width: 100%; background: white; font-size: 0.95em; }
th, td { border: 1px solid #d0d7de; padding: 6px 10px; text-align: right; }
th { background: #eaeef2; } td.name, th.name { text-align: left; white-space: nowrap; }
td.ok { color: #1a7f37; } td.ko { color: #cf222e; font-weight: 600; background: #ffebe9; }
td.na { color: #6e7781; }
.chart { background: white; border: 1px solid #d0d7de; border-radius: 8px; margin: 12px 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: white;
     border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 24px; }
dt { color: #57606a; } dd { margin: 0; }
"""
