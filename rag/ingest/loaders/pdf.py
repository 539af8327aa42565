"""PDF: the text layer, page by page, read with PDFium (``pypdfium2``) and laid out by ``layout``.

PDFium was chosen by measurement (``evals/bench_pdf.py``, table in docs/ingest.md): it read
Chromium-, ReportLab- and fpdf2-made Russian and English PDFs with the best fidelity of the three
candidates, 3-8 times faster than pypdf and pdfminer.six, in similar memory; it is
Chromium's own PDF engine, and its licence (Apache-2.0 / BSD-3-Clause) suits the project.

PDFium reads a page's lines in content order and gives each character's box; from one box per line
``layout`` finds paragraphs, running headers and footers, and hyphenation. PDFium is not
thread-safe, not even across documents, so every call into it holds one process-wide lock.

Refused with a DocumentError naming the file: a password-protected PDF, a damaged one PDFium
cannot open, and one with no text on any page (scanned, image-only: it needs OCR first). A PDF
whose owner password only restricts printing or copying opens and is read like any other.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from rag.errors import DocumentError
from rag.ingest.loaders.base import Extracted
from rag.ingest.loaders.clean import plain
from rag.ingest.loaders.layout import HYPHEN, Line, join_pages, paragraphs, strip_running

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
# PDFium's own words ("Data format error") name its parser's state, not what the user can do.
DAMAGED = "damaged PDF that cannot be read (truncated or corrupt): copy or export it again"


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the indices PDFium's text calls use."""
    return len(text.encode("utf-16-le")) // 2


def _line(raw: Any, textpage: Any, text: str, first: int, last: int, words: tuple[tuple[float, float], ...]) -> Line:
    char_first = raw.FPDFText_GetCharIndexFromTextIndex(textpage, first)
    char_last = raw.FPDFText_GetCharIndexFromTextIndex(textpage, last)
    left, bottom, _, top = textpage.get_charbox(char_first, loose=True)
    _, _, right, _ = textpage.get_charbox(char_last, loose=True)
    y_first, y_last = _origin(raw, textpage, char_first)[1], _origin(raw, textpage, char_last)[1]
    return Line(text, left, right, y_first, top - bottom, y_last if abs(y_last - y_first) > 1 else None, words)


def _words(raw: Any, textpage: Any, spans: list[tuple[int, int]]) -> tuple[tuple[float, float], ...]:
    """(left edge, gap to the word before) of each word, its first and last characters' text indices
    given; the gaps find a table's cells (``tables``)."""
    out, right = [], None
    for first, last in spans:
        left = textpage.get_charbox(raw.FPDFText_GetCharIndexFromTextIndex(textpage, first))[0]
        out.append((left, 0.0 if right is None else max(left - right, 0.0)))
        right = textpage.get_charbox(raw.FPDFText_GetCharIndexFromTextIndex(textpage, last))[2]
    return tuple(out)


def _origin(raw: Any, textpage: Any, index: int) -> tuple[float, float]:
    import ctypes

    x, y = ctypes.c_double(), ctypes.c_double()
    raw.FPDFText_GetCharOrigin(textpage, index, ctypes.byref(x), ctypes.byref(y))
    return x.value, y.value


def _page_lines(pdf: Any, index: int) -> list[Line]:
    import pypdfium2.raw as raw

    page = pdf[index]
    textpage = page.get_textpage()
    try:
        if textpage.count_chars() <= 0:
            return []
        text = textpage.get_text_range()
        astral = len(text) != _utf16_len(text)  # then Python and PDFium count characters apart
        lines = []
        for m in re.finditer(r"[^\r\n]+", text):
            body = m.group().strip()
            clean = plain(body.replace("\x02", HYPHEN)).strip()
            if not clean:
                continue
            first = m.start() + len(m.group()) - len(m.group().lstrip())
            last = first + len(body) - 1
            spans = [(first + w.start(), first + w.end() - 1) for w in re.finditer(r"\S+", body)]
            if astral:
                first, last = _utf16_len(text[:first]), _utf16_len(text[: last + 1]) - 1
                spans = [(_utf16_len(text[:a]), _utf16_len(text[: b + 1]) - 1) for a, b in spans]
            words = _words(raw, textpage, spans) if len(spans) == len(clean.split()) else ()
            lines.append(_line(raw, textpage, clean, first, last, words))
        return lines
    finally:
        textpage.close()
        page.close()


def _open(name: str, data: bytes) -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        log.debug("%s: PDFium cannot open it: %s", name, exc)
        if exc.err_code == raw.FPDF_ERR_PASSWORD:
            raise DocumentError(name, "encrypted PDF: it needs a password; save an unprotected copy") from None
        if exc.err_code == raw.FPDF_ERR_SECURITY:
            raise DocumentError(
                name, "encrypted PDF whose protection cannot be opened here: save an unprotected copy"
            ) from None
        raise DocumentError(name, DAMAGED) from None


def read_lines(name: str, data: bytes) -> tuple[list[list[Line]], str]:
    """Every page's lines, in PDFium's reading order, and the document's title from its metadata."""
    import pypdfium2 as pdfium

    with _LOCK:
        pdf = _open(name, data)
        try:
            try:
                title = str(pdf.get_metadata_dict().get("Title") or "").strip()
            except (UnicodeDecodeError, ValueError, pdfium.PdfiumError):
                title = ""  # metadata that does not decode: the text can still be read
            pages = []
            for i in range(len(pdf)):
                try:
                    pages.append(_page_lines(pdf, i))
                except pdfium.PdfiumError as exc:
                    log.debug("%s: PDFium cannot read page %d: %s", name, i + 1, exc)
                    raise DocumentError(
                        name, f"damaged PDF: page {i + 1} cannot be read; copy or export it again"
                    ) from None
        finally:
            pdf.close()
    return pages, plain(title)


def load(name: str, data: bytes) -> Extracted:
    """The text of every page, paragraphs rebuilt, headers and footers dropped, pages marked."""
    pages, title = read_lines(name, data)
    if not any(pages):
        raise DocumentError(name, f"no text layer on any of its {len(pages)} page(s) (scanned?): run OCR on it first")
    text, starts = join_pages([paragraphs(lines) for lines in strip_running(pages)])
    return Extracted(text, title, starts)
