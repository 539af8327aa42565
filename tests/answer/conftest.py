"""Fixtures for the answer tests: hand-made passages from the seed article, settings, fake LLMs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings, load_settings
from rag.types import Chunk, Passage
from tests.answer.llm_fakes import FakeLLM, LoopbackLLM

TEXTS = [
    "Только за период с января по сентябрь 2025 года объем взаимной торговли достиг 3,39 млрд долларов США, "
    "что на 18,2% больше по сравнению с аналогичным периодом прошлого года. При этом экспорт из Казахстана "
    "в Узбекистан вырос на 25,9% и составил 2,5 млрд долларов США.",
    "Стоит также отметить, что в прошлом году в Казахстане был запущен международный железнодорожный тур "
    "«Шелковый путь». Маршрут «Алматы — Туркестан — Ташкент — Алматы» открыл новые возможности для путешествий.",
    "В 2024 году объем казахстанских инвестиций в Узбекистан составил 132,1 млн долларов США, тогда как приток "
    "инвестиций из Узбекистана в Казахстан достиг 17,7 млн долларов США.",
]
TRADE_QUESTION = "Каков объем взаимной торговли Казахстана и Узбекистана с января по сентябрь 2025 года?"


def make_passages(texts: list[str] = TEXTS) -> list[Passage]:
    """Passages as retrieval returns them: best first, offsets into one made-up source."""
    out, pos = [], 0
    for i, text in enumerate(texts):
        chunk = Chunk(f"article.txt#{i}", "article.txt", "seeds/article.txt", "Article", text, pos, pos + len(text), i)
        out.append(Passage(chunk, 1.0 - 0.1 * i, i + 1))
        pos += len(text) + 1
    return out


@pytest.fixture
def passages() -> list[Passage]:
    return make_passages()


@pytest.fixture
def unit_settings(tmp_path: Path) -> Settings:
    """Fast, isolated settings: hashing embedder, no refusal, quick retries and timeouts."""
    return load_settings(
        env={},
        index_dir=tmp_path / "index",
        embedder="hashing",
        refusal_threshold=-100.0,
        llm_retries=1,
        llm_retry_backoff=0.01,
        llm_timeout=0.5,
    )


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
def loopback(fake_llm: FakeLLM) -> Iterator[LoopbackLLM]:
    server = LoopbackLLM(fake_llm)
    yield server
    server.close()
