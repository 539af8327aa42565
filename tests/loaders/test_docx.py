"""Word documents: headings become section titles as Markdown headings do; tables; refusals."""

from __future__ import annotations

import pytest

from rag.errors import DocumentError
from rag.ingest.chunk import chunk_document
from rag.ingest.load import load_bytes
from tests.docgen import docx_bytes

ITEMS = [
    ("h1", "Регламент командировок"),
    ("p", "Сотрудники бронируют билеты заранее.\u00a0Эконом-класс — для перелётов короче шести часов."),
    ("h2", "Суточные"),
    ("p", "Суточные выплачиваются по ставке страны пребывания в течение десяти дней после возвращения."),
    ("table", "Страна|Ставка\nКазахстан|45 евро\nУзбекистан|40 евро"),
    ("h2", "Отчётность"),
    ("p", "Все чеки прикладываются к авансовому отчёту; the ﬁnance desk проверяет их за неделю."),
]


def test_headings_tables_and_section_titles() -> None:
    doc = load_bytes("регламент.docx", docx_bytes(ITEMS, title="Регламент 2025"))
    assert doc.title == "Регламент 2025" and doc.pages == ()
    assert doc.text.startswith("# Регламент командировок\n\nСотрудники бронируют билеты заранее. Эконом-класс")
    assert "\n\n## Суточные\n\n" in doc.text and "\n\n## Отчётность\n\n" in doc.text
    assert "Страна | Ставка\nКазахстан | 45 евро\nУзбекистан | 40 евро" in doc.text
    assert "the finance desk" in doc.text  # the ligature spelled out
    chunks = chunk_document(doc, max_tokens=40, overlap=0)
    titles = {c.title for c in chunks if "Суточные выплачиваются" in c.text or "чеки" in c.text}
    assert titles == {"Регламент 2025 — Суточные", "Регламент 2025 — Отчётность"}
    assert all(c.page_start is None and c.page_end is None for c in chunks)


def test_docx_is_recognised_by_content() -> None:
    data = docx_bytes(ITEMS)
    assert load_bytes("upload", data).text == load_bytes("upload.bin", data).text == load_bytes("a.docx", data).text


def test_damaged_and_foreign_files_named_docx_are_refused() -> None:
    import io
    import zipfile

    good = docx_bytes(ITEMS)
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    cases = {
        "cut.docx": (good[: len(good) // 2], "damaged .docx (not a readable zip archive)"),
        "sheet.docx": (other_zip.getvalue(), "no word/document.xml"),
        "old.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "save it as .docx"),
        "text.docx": ("обычный текст".encode(), "not a .docx file"),
    }
    for name, (data, why) in cases.items():
        with pytest.raises(DocumentError) as err:
            load_bytes(name, data)
        assert err.value.path == name and why in err.value.message, err.value.message


def test_an_empty_document_has_no_text() -> None:
    with pytest.raises(DocumentError, match="no text in file"):
        load_bytes("empty.docx", docx_bytes([]))
