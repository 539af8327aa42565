"""A PDF uploaded through the admin API: sniffed by content, listed with its pages, cited by page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import app_client
from tests.conftest import SEED_FILE
from tests.docgen import blocks, encrypt, fpdf2_pdf

pytestmark = pytest.mark.asyncio

PARAGRAPHS = [text for kind, text in blocks(SEED_FILE.read_text(encoding="utf-8")) if kind == "p"][:24]
PHRASE = " ".join(PARAGRAPHS[21].split()[:8])  # a sentence on the last page


def page_of(pdf: bytes, phrase: str) -> int:
    """The 1-based page PDFium finds ``phrase`` on."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        pages = [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]
    finally:
        doc.close()
    return next(n for n, text in enumerate(pages, start=1) if phrase in text)


async def test_pdf_upload_lists_pages_and_cites_them(make_settings: Any) -> None:
    pdf = fpdf2_pdf(PARAGRAPHS, "Обзор")
    async with app_client(make_settings()) as client:
        # No suffix: the content says PDF.
        r = await client.post("/v1/documents?filename=obzor", content=pdf, headers={"X-Requested-With": "test"})
        assert r.status_code == 201, r.text
        listed = {d["doc_id"]: d for d in (await client.get("/v1/documents")).json()["documents"]}
        assert listed["obzor"]["pages"] == 3 and listed["obzor"]["title"] == "Обзор"
        assert "pages" not in listed["kazakhstan-uzbekistan.ru.txt"]

        # The seed article says it too: look at the best passage of the PDF.
        hits = (await client.post("/v1/search", json={"query": PHRASE, "top_k": 4, "mode": "lexical"})).json()
        top = next(p for p in hits["passages"] if p["doc_id"] == "obzor")
        assert top["page_start"] <= page_of(pdf, PHRASE) <= top["page_end"] and PHRASE in " ".join(top["text"].split())

        r = await client.post(
            "/v1/documents",
            files={"file": ("secret.pdf", encrypt(pdf, "pw"), "application/pdf")},
            headers={"X-Requested-With": "test"},
        )
        assert r.status_code == 415 and r.json()["error"]["code"] == "bad_document"
        assert "secret.pdf" in r.json()["error"]["message"] and "password" in r.json()["error"]["message"]


async def test_damaged_uploads_get_a_plain_reason(make_settings: Any) -> None:
    from tests.docgen import damaged_documents

    async with app_client(make_settings()) as client:
        for name, (data, reason) in damaged_documents().items():
            r = await client.post("/v1/documents", files={"file": (name, data)}, headers={"X-Requested-With": "test"})
            assert r.status_code == 415, r.text
            assert r.json()["error"] == {"code": "bad_document", "message": f"{name}: {reason}"}
