"""Word .docx through ``python-docx``: body paragraphs and tables in document order.

Paragraphs styled "Heading 1".."Heading 9" (or "Title") become Markdown heading lines (``## …``),
so the chunker gives their sections titles exactly as it does for Markdown files; built-in style
names are stored in English whatever the language of Word's interface. A list (paragraphs with
numbering, or in a "List Bullet"/"List Number" style) becomes one block of "- " lines, as in
Markdown, so its items stay in one passage with the line that introduces them instead of being
cut into passages two items at a time. Each table row becomes one line, its cells joined by
" | ". Headers, footers, footnotes, comments and text boxes are not part of the body and are left
out. The title comes from the document properties when set.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from typing import Any

from rag.errors import DocumentError
from rag.ingest.loaders.base import Extracted
from rag.ingest.loaders.clean import plain

log = logging.getLogger(__name__)

# Thousands of pages of text (a page of Word XML is a few KB); parsing 32 MB takes about 12 s.
MAX_XML_BYTES = 32_000_000
_HEADING = re.compile(r"^(?:heading|заголовок)\s*([1-9])$", re.IGNORECASE)


def _heading_level(paragraph: Any, levels: dict[str | None, int]) -> int:
    """The heading level of a paragraph's style, 0 for body text; ``levels`` remembers each style's.

    Looked up by the style id the paragraph names: ``paragraph.style`` searches every style of the
    document for a paragraph that names none (about 0.7 ms each: 35 s for 50,000 paragraphs).
    """
    style_id = paragraph._p.style  # w:pStyle/@w:val, None for the default style
    if style_id not in levels:
        style = paragraph.style
        name = str(style.name or "") if style is not None else ""
        m = _HEADING.match(name.strip())
        levels[style_id] = 1 if name.lower() == "title" else int(m.group(1)) if m else 0
    return levels[style_id]


def _is_list_item(paragraph: Any, lists: dict[str | None, bool]) -> bool:
    """Whether a paragraph is an item of a bulleted or numbered list: it has numbering of its own,
    or its style ("List Bullet", "List Number 2") does; ``lists`` remembers each style's answer."""
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        return True
    style_id = paragraph._p.style
    if style_id not in lists:
        style = paragraph.style
        name = str(style.name or "") if style is not None else ""
        lists[style_id] = name.lower().startswith(("list bullet", "list number", "list paragraph"))
    return lists[style_id]


def _row(row: Any) -> str:
    cells, prev = [], None
    for cell in row.cells:
        if cell._tc is not prev:  # a merged cell is listed once per grid column it spans
            cells.append(" ".join(plain(cell.text).split()))
        prev = cell._tc
    return " | ".join(cells)


def _blocks(document: Any) -> list[str]:
    from docx.table import Table

    out: list[str] = []
    levels: dict[str | None, int] = {}
    lists: dict[str | None, bool] = {}
    in_list = False  # whether the last block is a list that the next item carries on
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            out.append("\n".join(r for r in map(_row, item.rows) if r.strip(" |")))
            in_list = False
            continue
        text = plain(item.text).strip()
        level = _heading_level(item, levels)
        if text and level:
            out.append("#" * level + " " + " ".join(text.split()))
        elif text and _is_list_item(item, lists):
            line = "- " + " ".join(text.split())
            out[-1:] = [out[-1] + "\n" + line] if in_list else [*out[-1:], line]
            in_list = True
            continue
        elif text:
            out.append(text)
        in_list = in_list and not text  # an empty paragraph does not end a list
    return [b for b in out if b]


def _check_size(name: str, data: bytes) -> None:
    """DocumentError when the package's XML unpacks to more than ``MAX_XML_BYTES`` (a few hundred KB
    of .docx can hold gigabytes of repetitive XML, which python-docx would parse in full)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist() if i.filename.lower().endswith(".xml"))
    except (zipfile.BadZipFile, ValueError):
        return  # python-docx reports a damaged package itself
    if unpacked > MAX_XML_BYTES:
        raise DocumentError(
            name, f"its XML unpacks to {unpacked / 1e6:.1f} MB; the limit is {MAX_XML_BYTES / 1e6:.1f} MB"
        )


def load(name: str, data: bytes) -> Extracted:
    """Text of the document body, headings marked as Markdown."""
    import docx

    _check_size(name, data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _blocks(document)
        title = plain(document.core_properties.title or "").strip()
    except Exception as exc:  # noqa: BLE001 - whatever a malformed package makes python-docx raise
        # lxml's line and column or zlib's error number mean nothing to whoever saved the file.
        log.debug("%s: python-docx cannot read it: %r", name, exc)
        raise DocumentError(
            name, "damaged .docx that cannot be read: open it in Word or LibreOffice and save it again"
        ) from None
    return Extracted("\n\n".join(blocks), title)
