"""Acceptance: the seed article as a Chromium PDF and as a DOCX answers the seed questions as well
as the .txt original (fact recall within 0.03), and every PDF citation names the page where the
quoted sentence was printed, as PDFium reads that page on its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.answer.generate.extractive import ExtractiveGenerator
from rag.config import Settings
from rag.embed import get_embedder
from rag.evals.corpus import SEED_QUESTIONS
from rag.evals.dataset import load_questions
from rag.evals.run import EvalRun, evaluate
from rag.ingest.pipeline import ingest_paths
from rag.search.retrieve import open_retriever
from tests.conftest import SEED_FILE, SEED_TITLE, make_settings
from tests.docgen import article_docx

MARKER = re.compile(r"\[(\d+)\]")


def answer_run(settings: Settings) -> EvalRun:
    """The seed questions answered over ``settings``' index by the default (extractive) pipeline."""
    embedder = get_embedder(settings.embedder)
    retriever = open_retriever(settings, embedder)
    generator = ExtractiveGenerator(settings, embedder)
    questions = load_questions(SEED_QUESTIONS)
    return evaluate(retriever, questions, settings, (), generator, settings.top_k, progress=False)


def squash(text: str) -> str:
    """Letters and digits only, lower case: hyphens, spaces and line ends do not matter."""
    return re.sub(r"[\W_]+", "", text.replace("\ufffe", "")).lower()


def printed_pages(pdf: Path) -> list[str]:
    """Each page's text as PDFium reads it, without this project's layout pass, less the two lines
    Chromium adds to every page (date and title; address and page number)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()
    chrome = re.compile(r"^(?:\d{1,2}/\d{1,2}/\d{2,4}, \d{1,2}:\d{2}|file://)")
    return [squash(" ".join(x for x in t.splitlines() if not chrome.match(x))) for t in texts]


def quotes(answer: str) -> list[tuple[int, str]]:
    """(n, text) for each stretch of the answer followed by its marker [n]."""
    out, prev = [], 0
    for m in MARKER.finditer(answer):
        out.append((int(m.group(1)), answer[prev : m.start()]))
        prev = m.end()
    return out


@pytest.fixture(scope="module")
def txt_run(seed_settings: Settings) -> EvalRun:
    return answer_run(seed_settings)


def test_pdf_answers_as_well_as_txt_with_the_right_pages(
    txt_run: EvalRun, seed_pdf_settings: Settings, seed_pdf: Path
) -> None:
    run = answer_run(seed_pdf_settings)
    txt, pdf = txt_run.metrics["answer.fact_recall"], run.metrics["answer.fact_recall"]
    print(f"seed fact recall: txt {txt:.3f}, Chromium PDF {pdf:.3f}")
    assert txt is not None and pdf is not None and pdf >= txt - 0.03

    pages = printed_pages(seed_pdf)
    checked, wrong = 0, []
    for record in run.questions:
        cited = {c["n"]: c for c in record.get("citations", [])}
        for n, said in quotes(record.get("answer", "")):
            probe = squash(said)[:40]
            citation = cited.pop(n, None)
            if citation is None or len(probe) < 20:
                continue  # a citation's page is where its first quote was printed
            page = citation.get("page")
            where = [p for p, text in enumerate(pages, start=1) if probe in text]
            if not where:  # the quote starts on one page and runs on to the next
                where = [p for p in range(1, len(pages)) if probe in pages[p - 1] + pages[p]]
            checked += 1
            if page not in where:
                wrong.append((record["id"], page, where, said[:60]))
    print(f"PDF citations checked against the printed pages: {checked}, wrong: {len(wrong)}")
    assert checked >= 50 and not wrong, wrong


def test_docx_answers_as_well_as_txt(txt_run: EvalRun, tmp_path: Path) -> None:
    source = tmp_path / "kazakhstan-uzbekistan.ru.docx"
    source.write_bytes(article_docx(SEED_FILE.read_text(encoding="utf-8"), SEED_TITLE))
    settings = make_settings(tmp_path / "index")
    report = ingest_paths([source], settings, get_embedder(settings.embedder), progress=False)
    assert not report.errors
    run = answer_run(settings)
    txt, docx = txt_run.metrics["answer.fact_recall"], run.metrics["answer.fact_recall"]
    print(f"seed fact recall: txt {txt:.3f}, DOCX {docx:.3f}")
    assert txt is not None and docx is not None and docx >= txt - 0.03
    assert all(c.get("page") is None for r in run.questions for c in r.get("citations", []))
