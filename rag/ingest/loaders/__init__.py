"""File formats, one module each, chosen by what the bytes are, not by the file name alone.

    text   .txt .md .markdown   UTF-8 or UTF-16 text as written             (``text``)
    html   .html .htm           the visible text and the <title>            (``html``)
    pdf    starts with %PDF-    the text layer page by page, pages marked   (``pdf``)
    docx   zip holding word/document.xml   body text, headings as ``#``     (``docx``)

A PDF or DOCX is recognised by its content whatever its name (an upload called "report" or
"scan.bin" is still read), and a file named .pdf or .docx that is not one is refused as damaged
or misnamed rather than read as text. Text formats have no magic number, so there the suffix
decides; a file with no known suffix that begins like an HTML page is read as HTML.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rag.errors import DocumentError
from rag.ingest.loaders import docx, html, pdf, text
from rag.ingest.loaders.base import Extracted, Loader

__all__ = ["REGISTRY", "SUPPORTED", "Extracted", "Loader", "extract", "sniff"]

REGISTRY: dict[str, Loader] = {"text": text.load, "html": html.load, "pdf": pdf.load, "docx": docx.load}
SUFFIXES = {
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED = tuple(SUFFIXES)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls/.ppt
# Office saves a password-protected .docx/.xlsx inside an OLE file, in a stream of this name.
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def sniff(name: str, data: bytes) -> str:
    """The format of a file (a key of REGISTRY), or a DocumentError saying why it has none."""
    suffix = Path(name).suffix.lower()
    by_name = SUFFIXES.get(suffix)
    # Readers allow a little junk before the header; a text file merely quoting one is not a PDF.
    if data.startswith(b"%PDF-") or (by_name not in ("text", "html") and b"%PDF-" in data[:1024]):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        names = _zip_names(data)
        if names is not None and "word/document.xml" in names:
            return "docx"
        if by_name == "docx":
            why = "not a readable zip archive" if names is None else "no word/document.xml inside"
            raise DocumentError(name, f"damaged .docx ({why})")
    if data.startswith(_OLE):
        if _ENCRYPTED in data and by_name == "docx":
            raise DocumentError(name, "encrypted .docx: it needs a password; save an unprotected copy")
        if _ENCRYPTED in data:
            raise DocumentError(name, "an encrypted Office file: save an unprotected copy as .docx or PDF")
        raise DocumentError(name, "a legacy Office file (.doc, .xls, .ppt): save it as .docx or PDF")
    if by_name in ("pdf", "docx"):
        raise DocumentError(name, f"not a {suffix} file (its content does not start like one): damaged or misnamed")
    if by_name is None:
        head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if head.startswith((b"<!doctype html", b"<html")):
            return "html"
        raise DocumentError(
            name,
            f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED)}",
            code="unsupported_file_type",
        )
    return by_name


def extract(name: str, data: bytes) -> Extracted:
    """The text of a file of any supported format."""
    return REGISTRY[sniff(name, data)](name, data)
