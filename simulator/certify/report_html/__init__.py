"""``report.html``: the verdict for people, one self-contained file.

One module per layer: ``page`` (the document, its head and style, and which sections
in which order), ``sections`` (the banner, tables and details in words) and ``charts``
(the plotly figures). The import path ``simulator.certify.report_html`` stays.
"""

from __future__ import annotations

from simulator.certify.report_html.charts import FAILURE_RATE_WINDOW_S
from simulator.certify.report_html.page import REPORT_HTML, render, write_html

__all__ = ["FAILURE_RATE_WINDOW_S", "REPORT_HTML", "render", "write_html"]
