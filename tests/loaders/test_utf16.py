"""UTF-16 text saved without a byte-order mark is read; binary files stay refused.

Windows tools (PowerShell's ``Out-File``, some exporters) write UTF-16 with no BOM. Its bytes hold
NULs, which the loader otherwise takes for a binary file."""

from __future__ import annotations

import gzip
import io
import random
import sqlite3
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.errors import DocumentError
from rag.ingest.load import load_bytes
from tests.conftest import SEED_FILE

TEXTS = {
    "ru": "Привет, мир",
    "article": SEED_FILE.read_text(encoding="utf-8")[:3000],
    "en": "Quarterly report\r\n\r\nTrade grew by 5% in 2024.\r\n",
    "mixed": "Отчёт № 7 — «Хлопок» (2024): 3,39 млрд $\n\tитог\u00a0— рост.",
    "el": "Καλημέρα κόσμε, 2024.",
    "short": "Да, я",
    "uk": "Ґанок і їжак: «Привіт»!",
}


ORDERS = ("utf-16-le", "utf-16-be")


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("key", sorted(TEXTS))
def test_utf16_without_a_bom_is_read(key: str, order: str) -> None:
    text = TEXTS[key]
    doc = load_bytes(f"{key}.txt", text.encode(order))
    assert doc.text == text.replace("\r\n", "\n")


def test_utf16_html_without_a_bom_is_read() -> None:
    page = "<html><head><title>Отчёт</title></head><body><p>Текст страницы.</p></body></html>"
    doc = load_bytes("page.html", page.encode("utf-16-le"))
    assert (doc.title, doc.text) == ("Отчёт", "Текст страницы.")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buf, "PNG")
    return buf.getvalue()


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "Заметки " * 50)
    return buf.getvalue()


def _sqlite(tmp_path: Path) -> bytes:
    con = sqlite3.connect(tmp_path / "db.sqlite")
    con.execute("CREATE TABLE t (a TEXT)")
    con.execute("INSERT INTO t VALUES ('Привет, мир')")
    con.commit()
    con.close()
    return (tmp_path / "db.sqlite").read_bytes()


def _binaries(tmp_path: Path) -> dict[str, bytes]:
    rng = random.Random(7)
    found = {
        "png": _png(),
        "elf": Path(sys.executable).resolve().read_bytes()[:65536],
        "zip": _zip(),
        "gzip": gzip.compress("Привет, мир".encode("utf-16-le") * 20, mtime=0),
        "sqlite": _sqlite(tmp_path),
        "png-header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00 \x00\x00\x00 \x08\x02\x00\x00\x00",
        "elf-header": b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4,
        # Text in UTF-8 with a stray NUL: decoded as UTF-16 it is CJK-looking nonsense.
        "utf8-with-nul": "Отчёт о поставках зерна за квартал.\n".encode() * 20 + b"\x00",
    }
    for size in (16, 64, 1024, 65536):
        for seed in range(5):
            found[f"random-{size}-{seed}"] = random.Random(rng.random()).randbytes(size)
    return found


def _reads(name: str, data: bytes) -> bool:
    try:
        load_bytes(name, data)
    except DocumentError:
        return False
    return True


def test_binary_files_are_still_refused(tmp_path: Path) -> None:
    binaries = _binaries(tmp_path)
    assert [key for key, data in binaries.items() if _reads(f"{key}.txt", data)] == []
    assert [key for key, data in binaries.items() if _reads(f"{key}.md", data[:8192])] == []


BOMS = (b"\xff\xfe", b"\xfe\xff")


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(data=st.binary(min_size=2, max_size=400).filter(lambda b: b"\x00" in b and not b.startswith(BOMS)))
def test_whatever_is_read_from_bytes_with_nuls_is_their_exact_utf16_text(data: bytes) -> None:
    try:
        doc = load_bytes("x.txt", data)
    except DocumentError:
        return
    decoded = {data.decode(order, "replace").replace("\r\n", "\n").replace("\r", "\n") for order in ORDERS}
    assert doc.text in decoded
    assert all(
        c.isprintable() or c in " \t\n\f" or unicodedata.category(c) in ("Zs", "Zl", "Zp", "Cf") for c in doc.text
    )
