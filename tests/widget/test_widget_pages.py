"""The widget over an index of the seed article printed to PDF: each source shows its page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings, replace
from tests.widget.conftest import Origins, output_dir
from tests.widget.test_widget_browser import FACT_QUESTION, ask, expect, open_widget

pytestmark = pytest.mark.usefixtures("chromium", "host_servers")


@pytest.fixture(scope="module")
def widget_settings(seed_pdf_settings: Settings, origins: Origins) -> Settings:
    """The PDF index, with the widget key of the host page (replaces the seed .txt index here)."""
    return replace(seed_pdf_settings, api_keys=("qk-test",), widget_keys=(f"wk-test@{origins.host}",))


def printed_on(pdf: Path, phrase: str) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        texts = [" ".join(doc[i].get_textpage().get_text_range().split()) for i in range(len(doc))]
    finally:
        doc.close()
    return next(n for n, text in enumerate(texts, start=1) if phrase in text)


@pytest.mark.parametrize(("lang", "label"), [("ru", "стр."), ("en", "p.")])
def test_each_source_shows_the_page_it_quotes(
    new_page: Any, origins: Origins, seed_pdf: Path, lang: str, label: str
) -> None:
    page = new_page()
    open_widget(page, origins.host, lang=lang)
    answer = ask(page, FACT_QUESTION)
    expect()(answer).to_contain_text("3,39")
    first = answer.locator(".cite").first
    expect()(first.locator(".cite-page")).to_have_text(f"· {label}\u00a0{printed_on(seed_pdf, '3,39 млрд')}")
    if lang == "ru":
        page.screenshot(path=str(output_dir() / "widget-pdf-pages.png"))
