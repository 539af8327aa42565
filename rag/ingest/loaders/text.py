"""Plain text and Markdown: UTF-8 (a BOM is dropped) or UTF-16 with a BOM, line ends folded to ``\\n``."""

from __future__ import annotations

import codecs

from rag.errors import DocumentError
from rag.ingest.loaders.base import Extracted


def decode(name: str, data: bytes) -> str:
    """UTF-8 text of ``data`` (or UTF-16 with a byte-order mark), or a DocumentError that says why not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode" text files
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(
                name, "not valid UTF-16 despite its byte-order mark: re-save the file as UTF-8"
            ) from None
    if b"\x00" in data[:8192]:
        raise DocumentError(name, "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(name, f"not valid UTF-8 (byte {exc.start}): re-save the file as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load(name: str, data: bytes) -> Extracted:
    """The file's text as it is."""
    return Extracted(decode(name, data))
