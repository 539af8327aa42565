"""Word .docx through ``python-docx``: body paragraphs and tables in document order.

Paragraphs styled "Heading 1".."Heading 9" (or "Title") become Markdown heading lines (``## …``),
so the chunker gives their sections titles exactly as it does for Markdown files; built-in style
names are stored in English whatever the language of Word's interface. Each table row becomes
one line, its cells joined by " | ". Headers, footers, footnotes, comments and text boxes are not
part of the body and are left out. The title comes from the document properties when set.
"""

from __future__ import annotations

import io
import re
from typing import Any

from rag.errors import DocumentError
from rag.ingest.loaders.base import Extracted
from rag.ingest.loaders.clean import plain

_HEADING = re.compile(r"^(?:heading|заголовок)\s*([1-9])$", re.IGNORECASE)


def _heading_level(paragraph: Any) -> int:
    style = paragraph.style
    name = str(style.name or "") if style is not None else ""
    if name.lower() == "title":
        return 1
    m = _HEADING.match(name.strip())
    return int(m.group(1)) if m else 0


def _row(row: Any) -> str:
    cells, prev = [], None
    for cell in row.cells:
        if cell._tc is not prev:  # a merged cell is listed once per grid column it spans
            cells.append(" ".join(plain(cell.text).split()))
        prev = cell._tc
    return " | ".join(cells)


def _blocks(document: Any) -> list[str]:
    from docx.table import Table

    out = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            out.append("\n".join(r for r in map(_row, item.rows) if r.strip(" |")))
            continue
        text = plain(item.text).strip()
        level = _heading_level(item)
        if text and level:
            out.append("#" * level + " " + " ".join(text.split()))
        elif text:
            out.append(text)
    return [b for b in out if b]


def load(name: str, data: bytes) -> Extracted:
    """Text of the document body, headings marked as Markdown."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document)
        title = plain(document.core_properties.title or "").strip()
    except Exception as exc:  # noqa: BLE001 - whatever a malformed package makes python-docx raise
        raise DocumentError(name, f"damaged .docx that cannot be read ({exc})") from None
    return Extracted("\n\n".join(blocks), title)
