"""PDFs from real producers: text, pages, running headers, columns, hyphenation, and the refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.errors import DocumentError
from rag.ingest.load import load_bytes
from rag.ingest.loaders.pdf import read_lines
from tests.conftest import SEED_FILE
from tests.docgen import blocks, encrypt, fpdf2_pdf, reportlab_pdf, scan_pdf
from tests.loaders.conftest import COLUMN_PARAGRAPHS

# Distinct paragraphs over several pages: the seed article's, and two in English.
PARAGRAPHS = [
    "The first rule of travel is to book early. Staff fly economy on flights under six hours.",
    "Claims up to 1 500 euros are paid within ten days. Our information desk answers the same day.",
    *[text for kind, text in blocks(SEED_FILE.read_text(encoding="utf-8")) if kind == "p"][:30],
]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_chromium_pdf_pages_ligatures_spaces_and_running_lines(printed: dict[str, Path]) -> None:
    doc = load_bytes("handbook.pdf", printed["english"].read_bytes())
    assert doc.title == "Staff handbook" and len(doc.pages) == 3
    assert "The first rule of travel" in doc.text and "Staff fly economy on flights" in doc.text  # ﬁ ﬂ
    assert "1 500 euros" in doc.text and "\u00a0" not in doc.text
    for running in ("Northwind", "Confidential", "file://", "Staff handbook", "1/3"):
        assert running not in doc.text
    assert "the information desk is on the ground floor" in doc.text  # infor-|mation: the word is known
    assert "A well-known rule" in doc.text  # well-|known: both halves are words of the document
    for phrase, page in (("Travel", 1), ("printed on page two", 2), ("printed on page three", 3)):
        assert doc.page_at(doc.text.index(phrase)) == page
    assert doc.text.count("\f") == 2 and all(doc.text[s - 1] == "\f" for s in doc.pages[1:])


def test_two_columns_read_in_order_with_paragraphs_whole(printed: dict[str, Path]) -> None:
    pdf = printed["columns"].read_bytes()
    lines = read_lines("columns.pdf", pdf)[0][0]
    starts = {round(line.x0 / 50) for line in lines if "колонк" in line.text or "абзац" in line.text}
    assert len(starts) >= 2, "the test page must really have two columns"
    doc = load_bytes("columns.pdf", pdf)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", doc.text)]
    positions = [paragraphs.index(p) for p in COLUMN_PARAGRAPHS]  # each one whole, none cut at the column break
    assert positions == sorted(positions)
    assert "Отдел информации и культурно-гуманитарного обмена" in doc.text


def test_a_table_is_read_row_by_row_with_its_cells_apart(printed: dict[str, Path]) -> None:
    doc = load_bytes("plants.pdf", printed["table"].read_bytes())
    assert (
        "\n\nPlant | Capacity (m³/day) | Staff | Built\nRiverside | 31,000 | 58 | 1974\n"
        "Hilltop | 15,500 | 34 | 1988\nOakmere | 4,200 | 11 | 1962\n\n" in doc.text
    )
    assert doc.text.count(" | ") == 12  # the justified columns above are no table
    assert "The chief executive of the utility is Helen Marsh." in doc.text


def test_an_image_only_page_keeps_the_page_count(printed: dict[str, Path]) -> None:
    doc = load_bytes("mixed.pdf", printed["mixed"].read_bytes())
    assert len(doc.pages) == 3
    assert doc.page_at(doc.text.index("Первая страница")) == 1
    assert doc.page_at(doc.text.index("Третья страница")) == 3


@pytest.mark.parametrize("make", [reportlab_pdf, fpdf2_pdf], ids=["reportlab", "fpdf2"])
def test_other_producers(make: object) -> None:
    pdf = make(PARAGRAPHS, "Producers")  # type: ignore[operator]
    doc = load_bytes("made.pdf", pdf)
    assert len(doc.pages) >= 3 and doc.title == "Producers"
    assert [flat(p) for p in re.split(r"\n\s*\n", doc.text)] == PARAGRAPHS


def test_scanned_encrypted_damaged_and_misnamed_files_are_refused(printed: dict[str, Path]) -> None:
    good = printed["english"].read_bytes()
    cases = {
        "scan.pdf": (scan_pdf(["Отсканированный договор", "без текстового слоя"], pages=2), "no text layer"),
        "secret.pdf": (encrypt(good, "secret"), "needs a password"),
        "cut.pdf": (good[: len(good) // 2], "damaged PDF"),
        "fake.pdf": ("просто текст".encode(), "not a .pdf file"),
    }
    for name, (data, why) in cases.items():
        with pytest.raises(DocumentError) as err:
            load_bytes(name, data)
        assert err.value.path == name and why in err.value.message, err.value.message


def test_owner_password_alone_does_not_stop_reading(printed: dict[str, Path]) -> None:
    doc = load_bytes("locked.pdf", encrypt(printed["english"].read_bytes(), "", "owner-only"))
    assert "printed on page two" in doc.text and len(doc.pages) == 3


def test_a_pdf_is_recognised_by_content_whatever_its_name(printed: dict[str, Path]) -> None:
    data = printed["english"].read_bytes()
    assert load_bytes("download", data).pages == load_bytes("x.txt", data).pages == load_bytes("x.pdf", data).pages


def _one_page_pdf(title_utf16_hex: bytes) -> bytes:
    """A minimal hand-written PDF whose metadata title is the given UTF-16 hex string."""
    content = b"BT /F1 12 Tf 20 100 Td (Quarterly trade grew by five percent.) Tj ET"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title <" + title_utf16_hex + b"> >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)


def test_a_title_that_does_not_decode_leaves_the_text_readable() -> None:
    """Metadata with half a UTF-16 character (``FEFF D800``) once refused the upload as bad JSON."""
    good = load_bytes("ok.pdf", _one_page_pdf(b"FEFF00480069"))
    assert good.title == "Hi" and "Quarterly trade grew" in good.text
    doc = load_bytes("bad-title.pdf", _one_page_pdf(b"FEFFD800"))
    assert doc.text == good.text and doc.title == "Quarterly trade grew by five percent."
