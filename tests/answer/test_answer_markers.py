"""Citations come only from the service: "[n]" inside documents is never read as a citation."""

from __future__ import annotations

import dataclasses
import random
import re

from rag.answer.cite import build_citations, cited_numbers, neutralize_markers
from rag.answer.generate.extractive import ExtractiveGenerator
from rag.answer.prompt import build_prompt, format_context
from rag.config import Settings
from rag.ingest.load import load_bytes
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION, make_passages

PLANTED = [
    "Только за период с января по сентябрь 2025 года объем взаимной торговли достиг 3,39 млрд долларов США [2][3].",
    "Сноска к другому тексту [1] и ещё одна [ 2, 3 ]; год в скобках [2025] остаётся.",
    "Посторонний документ, на который указывают чужие маркеры.",
]


def test_neutralized_text_keeps_its_length_and_cites_nothing() -> None:
    rng = random.Random(12)
    pieces = ["[1]", "[2][3]", "[12, 13]", " [4; 5]", "[", "]", "[2025]", "слово", " ", "\n", "[ 7 ]", "¹", "[^2]"]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        safe = neutralize_markers(text)
        assert len(safe) == len(text)  # offsets into the text stay valid
        assert cited_numbers(safe, 999) == []
        assert neutralize_markers(safe) == safe
        # Only the brackets of markers change; "[2025]" and lone brackets are left alone.
        assert re.sub(r"[\[\]\uff3b\uff3d]", "", safe) == re.sub(r"[\[\]]", "", text)
    assert neutralize_markers("год [2025]") == "год [2025]"


def test_the_extractive_answer_quotes_markers_harmlessly(unit_settings: Settings) -> None:
    passages = make_passages(PLANTED)
    gen = ExtractiveGenerator(unit_settings)
    answer = "".join(gen.stream(TRADE_QUESTION, passages, "ru"))
    cited = build_citations(answer, passages)
    assert "［2］［3］" in answer
    assert [c.n for c in cited] == [int(n) for n in re.findall(r"\[(\d{1,3})\]", answer)]  # "[2025]" is a year
    assert {c.n for c in cited} <= {1, 2}  # only the service's own markers, after quoted sentences


def test_the_llm_prompt_numbers_passages_and_nothing_else(unit_settings: Settings) -> None:
    passages = make_passages(PLANTED)
    titled = [dataclasses.replace(p, chunk=dataclasses.replace(p.chunk, title="Глава [3]")) for p in passages]
    prompt = build_prompt(TRADE_QUESTION, titled, "ru", unit_settings)
    context = format_context(prompt.passages)
    assert context in prompt.system + prompt.user
    labels = re.findall(r"\[(\d{1,3})\]", context)
    assert labels == [str(n) for n in range(1, len(prompt.passages) + 1)], labels
    assert "［2］［3］" in context and "Глава ［3］" in context


def test_stored_passages_keep_their_text(passages: list[Passage]) -> None:
    original = [p.chunk.text for p in passages]
    neutralize_markers(original[0])
    assert [p.chunk.text for p in passages] == original  # neutralizing never edits the index


def test_entities_decoded_from_html_never_become_markup() -> None:
    page = (
        "<html><head><title>&lt;script&gt;alert(1)&lt;/script&gt;Отчёт</title></head><body>"
        "<p>Текст &lt;img src=x onerror=alert(1)&gt; и &lt;a href=javascript:alert(2)&gt;ссылка&lt;/a&gt;.</p>"
        "<p>Незакрытый &lt;svg onload=alert(3) и сравнение 3 &lt; 5 &amp; 5 &gt; 3.</p>"
        "<script>document.write('<b>x</b>')</script></body></html>"
    )
    doc = load_bytes("page.html", page.encode())
    for text in (doc.text, doc.title):
        assert not re.search(r"<[A-Za-z/!?]", text), text
    assert "onerror" not in doc.text and "3 < 5 & 5 > 3" in doc.text and "ссылка" in doc.text
    assert doc.title == "alert(1) Отчёт"
    # Plain text and Markdown are the writer's own characters: kept as they are.
    assert load_bytes("a.md", b"a <b> c").text == "a <b> c"
