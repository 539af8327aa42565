"""Plain text and Markdown: UTF-8 (a BOM is dropped) or UTF-16, line ends folded to ``\\n``.

UTF-16 is read with a byte-order mark, and without one when the bytes leave no doubt
(``utf16_without_bom``): Windows tools such as PowerShell's ``Out-File`` write it so, and its NUL
bytes would otherwise refuse the file as binary. The test is strict on purpose, since a binary
file read as text fills the index with nonsense: the NULs sit at one parity (every ASCII space,
digit and line end has a NUL high byte), the high bytes take a handful of values (one alphabet or
two and punctuation; a binary or UTF-8 misread as UTF-16 spreads them over dozens), the whole file
decodes, and it decodes to printable text with spaces or line breaks in it. PNG, ELF, zip, gzip,
SQLite and random bytes all fail it (tests/loaders/test_utf16.py). Chinese or Japanese UTF-16
without a BOM is not recognised (ideographic spaces and 一 put NULs at the other parity): save it
as UTF-8.
"""

from __future__ import annotations

import codecs
import unicodedata

from rag.errors import DocumentError
from rag.ingest.loaders.base import Extracted

# At most this many distinct high bytes, and a quarter of the characters at most (Cyrillic text:
# 0x00, 0x04, 0x20 for dashes and quotes, 0x21 for №, a few more for symbols); random bytes take
# a new value almost every time, so short random files fail too.
_MAX_HIGH_BYTES = 16
_SPACES = frozenset("\t\n\r\f")


def _texty(text: str) -> bool:
    """Whether every character is one text holds: printable, a space or line break, or an invisible
    format mark (soft hyphen, zero-width joiner); and there is a space or line break."""
    spaced = False
    for c in text:
        if c in _SPACES or c == " ":
            spaced = True
        elif not c.isprintable() and unicodedata.category(c) not in ("Zs", "Zl", "Zp", "Cf"):
            return False
    return spaced


def utf16_without_bom(data: bytes) -> str | None:
    """The text of ``data`` when it is unmistakably UTF-16 (LE or BE) without a byte-order mark."""
    if len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if max(even, odd) < 10 * min(even, odd):  # NULs at both parities: not every other byte
        return None
    order, high = ("utf-16-le", data[1::2]) if odd > even else ("utf-16-be", data[0::2])
    if len(set(high)) > min(_MAX_HIGH_BYTES, max(2, len(high) // 4)):
        return None
    try:
        text = data.decode(order)
    except UnicodeDecodeError:  # a lone half of a surrogate pair
        return None
    return text if _texty(text) else None


def decode(name: str, data: bytes) -> str:
    """UTF-8 or UTF-16 text of ``data``, or a DocumentError that says why not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode" text files
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(
                name, "not valid UTF-16 despite its byte-order mark: re-save the file as UTF-8"
            ) from None
    if b"\x00" in data[:8192]:
        text = utf16_without_bom(data)
        if text is None:
            raise DocumentError(name, "binary file (contains NUL bytes)")
        return _fold_line_ends(text)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(name, f"not valid UTF-8 (byte {exc.start}): re-save the file as UTF-8") from None
    return _fold_line_ends(text)


def _fold_line_ends(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load(name: str, data: bytes) -> Extracted:
    """The file's text as it is."""
    return Extracted(decode(name, data))
