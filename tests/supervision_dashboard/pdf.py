"""Reading a procès-verbal PDF back, as a juror's PDF reader would: its text, page by page."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_words(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)
