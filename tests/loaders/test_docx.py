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


def test_a_list_is_one_block_of_items_and_stays_in_one_passage() -> None:
    items = [
        ("h2", "Обязанности инициатора"),
        ("p", "Инициатор закупки обязан:"),
        ("li", "подготовить техническое задание;"),
        ("li", "найти не менее трёх поставщиков;"),
        ("li", "приложить обоснование цены."),
        ("h2", "Сроки"),
        ("ol", "Заявка рассматривается пять рабочих дней."),
        ("ol", "Договор подписывается за десять рабочих дней."),
    ]
    doc = load_bytes("закупки.docx", docx_bytes(items))
    assert (
        "Инициатор закупки обязан:\n\n- подготовить техническое задание;\n- найти не менее трёх поставщиков;\n"
        "- приложить обоснование цены.\n\n## Сроки\n\n- Заявка рассматривается" in doc.text
    )
    chunks = chunk_document(doc, max_tokens=200, overlap=0)
    (duties,) = [c for c in chunks if "техническое задание" in c.text]
    assert "обоснование цены" in duties.text and duties.title == "Обязанности инициатора"


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


def _with_body(data: bytes, body: bytes) -> bytes:
    """``data`` (a .docx) with its body's paragraphs replaced by ``body``."""
    import io
    import re
    import zipfile

    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            raw = src.read(item)
            if item.filename == "word/document.xml":
                new = b"<w:body>" + body.replace(b"\\", b"\\\\") + rb"\1"
                raw = re.sub(rb"<w:body>.*?(<w:sectPr)", new, raw, flags=re.S)
            z.writestr(item, raw)
    return out.getvalue()


def test_many_paragraphs_without_a_style_read_in_linear_time() -> None:
    """python-docx looks up the default style by searching every style, once per paragraph that
    names none; the loader asks once per style (150,000 paragraphs took 50 s before)."""
    import time

    para = "<w:p><w:r><w:t>Короткий абзац.</w:t></w:r></w:p>".encode()
    data = _with_body(docx_bytes([("h1", "Заголовок"), ("p", "Текст.")]), para * 30_000)
    t0 = time.perf_counter()
    text = load_bytes("many.docx", data).text
    assert text.count("Короткий абзац.") == 30_000
    assert time.perf_counter() - t0 < 20  # about 0.7 s here; minutes if the lookup were per paragraph


def test_a_package_whose_xml_unpacks_past_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.ingest.loaders import docx as docx_loader

    monkeypatch.setattr(docx_loader, "MAX_XML_BYTES", 200_000)
    para = b"<w:p><w:r><w:t>" + b"a" * 1000 + b"</w:t></w:r></w:p>"
    data = _with_body(docx_bytes(ITEMS), para * 300)  # 300 KB more XML, about 1 KB packed
    with pytest.raises(DocumentError, match=r"its XML unpacks to [0-9.]+ MB; the limit is 0\.2 MB") as err:
        load_bytes("bomb.docx", data)
    assert err.value.path == "bomb.docx"
