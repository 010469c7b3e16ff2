"""The procès-verbal as a PDF, the document a jury president signs and files.

The same tables as the page, the CSV and the printable HTML (:mod:`report`), laid out
on A4 landscape with fpdf2 (pure Python: no browser on the dashboard's host), headings
repeated on every page, the jurors who acted named in the signature block. Text is set
in DejaVu Sans where the host has it (every accent, « », œ, —); otherwise in the PDF's
own Helvetica, whose Latin-1 holds French but not a few typographic signs, which are
spelled plainly instead (— as -, œ as oe).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from supervision_dashboard.i18n import t
from supervision_dashboard.report import COLUMNS, SECTION_TITLES, SECTIONS, SUMMARY, Report, heading
from supervision_dashboard.report import header as column_header

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
_PLAIN = str.maketrans({"—": "-", "–": "-", "’": "'", "…": "...", "œ": "oe", "Œ": "OE", "→": "->", "≥": ">=", "≤": "<="})  # fmt: skip
HEAD = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text
        self.unicode = False

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(size=7)
        self.cell(0, 5, self.plain(f"{self.footer_text} · {self.page_no()}/{{nb}}"), align="R")

    def plain(self, value: str) -> str:
        if self.unicode:
            return value
        return value.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _font(pdf: _Pdf) -> None:
    for path in FONT_PATHS:
        bold = path.with_name("DejaVuSans-Bold.ttf")
        if path.is_file() and bold.is_file():
            pdf.add_font("DejaVu", "", str(path))
            pdf.add_font("DejaVu", "B", str(bold))
            pdf.set_font("DejaVu", size=8)
            pdf.unicode = True
            return
    pdf.set_font("Helvetica", size=8)


def _table(
    pdf: _Pdf,
    items: list[dict[str, str]],
    cols: tuple[str, ...],
    lang: str,
    line_height: float = 4.5,
) -> None:
    if not items:
        pdf.multi_cell(0, 5, pdf.plain(t("empty", lang)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        return
    with pdf.table(headings_style=HEAD, line_height=line_height, text_align="LEFT") as table:
        row = table.row()
        for c in cols:
            row.cell(pdf.plain(column_header(c, lang)))
        for item in items:
            row = table.row()
            for c in cols:
                row.cell(pdf.plain(item.get(c, "")))
    pdf.ln(3)


def _section(pdf: _Pdf, title: str) -> None:
    pdf.set_font(style="B", size=10)
    pdf.multi_cell(0, 6, pdf.plain(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(style="", size=8)


def to_pdf(report: Report, lang: str | None = None) -> bytes:
    lang = lang or report.lang
    title, lines = heading(report, lang)
    pdf = _Pdf(title)
    _font(pdf)
    pdf.set_title(pdf.plain(title))
    pdf.set_creator("vigie")
    # The document says when it was established, not when the file was written.
    pdf.set_creation_date(dt.datetime.fromtimestamp(report.generated_at, dt.UTC))
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font(style="B", size=13)
    pdf.multi_cell(0, 7, pdf.plain(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(style="", size=8)
    for line in lines:
        pdf.multi_cell(0, 5, pdf.plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _section(pdf, t("pv_summary", lang))
    _table(pdf, report.per_centre, SUMMARY, lang)
    for name in SECTIONS:
        _section(pdf, t(SECTION_TITLES[name], lang))
        _table(pdf, report.sections.get(name) or [], COLUMNS[name], lang)
    _section(pdf, t("pv_signatures", lang))
    # The jurors who acted, then blank lines for the others: room to sign (9 mm a line).
    rows = [{"member": n} for n in [*report.jurors, "", "", ""]]
    _table(pdf, rows, ("member", "quality", "signature"), lang, line_height=9)
    return bytes(pdf.output())
