"""Citation markers, prompts and language detection."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from rag.answer.cite import MarkerFilter, build_citations, cited_numbers, clean_markers
from rag.answer.prompt import build_prompt, pack_passages, refusal_message
from rag.config import Settings
from rag.errors import ConfigError
from rag.text.lang import detect_language
from rag.text.tokens import count_tokens
from rag.types import Passage
from tests.answer.conftest import make_passages


@pytest.mark.parametrize(
    ("text", "cleaned", "numbers"),
    [
        ("Ответ [1].", "Ответ [1].", [1]),
        ("A [2][1] and [1, 3].", "A [2][1] and [1, 3].", [1, 2, 3]),
        ("A [7] b.", "A b.", []),
        ("A [1, 7] b.", "A [1] b.", [1]),
        ("In [2025] and [0].", "In [2025] and.", []),
        ("No markers.", "No markers.", []),
    ],
)
def test_clean_markers(text: str, cleaned: str, numbers: list[int]) -> None:
    assert clean_markers(text, 3) == cleaned
    assert cited_numbers(cleaned, 3) == numbers


def test_dropped_markers_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rag.answer.cite"):
        clean_markers("x [9]", 2)
    assert "dropped citation marker(s) [9]" in caplog.text


def test_citations_carry_the_passage(passages: list[Passage]) -> None:
    (c,) = build_citations("Объем 3,39 [1] [5]", passages)
    p = passages[0].chunk
    assert (c.n, c.chunk_id, c.doc_id, c.source, c.title, c.text, c.start, c.end) == (
        1,
        p.chunk_id,
        p.doc_id,
        p.source,
        p.title,
        p.text,
        p.start,
        p.end,
    )
    assert c.score == passages[0].score


@pytest.mark.parametrize(
    "text", ["  Итог [1] и [9]. Ещё [2, 8] конец [3]  ", "[9] начало [1]", "x [1", "a [12, 13, 1] b"]
)
def test_marker_filter_matches_clean_for_every_split(text: str) -> None:
    expected = clean_markers(text, 3).strip()
    for cut in range(len(text) + 1):
        f = MarkerFilter(3)
        out = f.feed(text[:cut]) + f.feed(text[cut:]) + f.flush()
        assert out == expected, cut
    f = MarkerFilter(3)
    assert "".join(f.feed(ch) for ch in text) + f.flush() == expected


def test_prompt_numbers_passages_and_uses_templates(unit_settings: Settings, passages: list[Passage]) -> None:
    prompt = build_prompt("Сколько?", passages, "ru", unit_settings)
    assert prompt.passages == tuple(passages)
    for n in (1, 2, 3):
        assert f"[{n}] Article\n{passages[n - 1].chunk.text}" in prompt.user
    assert "Answer in Russian" in prompt.user and "Сколько?" in prompt.user
    assert "cite" in prompt.system


def test_templates_come_from_prompts_dir(tmp_path: Path, unit_settings: Settings, passages: list[Passage]) -> None:
    (tmp_path / "system.txt").write_text("SYS")
    (tmp_path / "answer.txt").write_text("Q=${question} L=${language_name}\n${context}")
    settings = dataclasses.replace(unit_settings, prompts_dir=tmp_path)
    prompt = build_prompt("why? {x} $y", passages[:1], "en", settings)
    assert prompt.system == "SYS"
    assert prompt.user.startswith("Q=why? {x} $y L=English\n[1] Article")
    (tmp_path / "answer.txt").write_text("${nope}")
    with pytest.raises(ConfigError, match="placeholder"):
        build_prompt("q", passages, "en", settings)
    with pytest.raises(ConfigError, match="cannot be read"):
        refusal_message("ru", settings)


def test_packing_is_best_first_within_budget() -> None:
    big = make_passages(["слово " * 400, "короткий текст.", "ещё один короткий текст."])
    packed = pack_passages(big, 100)
    assert packed[0].chunk.chunk_id == big[0].chunk.chunk_id  # the best always goes in, cut to fit
    assert count_tokens(packed[0].chunk.text) < 100 and big[0].chunk.text.startswith(packed[0].chunk.text)
    assert packed[0].chunk.end - packed[0].chunk.start == len(packed[0].chunk.text)
    assert pack_passages(packed, 100) == packed
    small = pack_passages(list(reversed(big)), 60)
    assert [p.chunk.ordinal for p in small] == [2, 1]  # the big one no longer fits and is skipped


def test_refusal_messages_are_localized(unit_settings: Settings) -> None:
    assert refusal_message("ru", unit_settings) == "В документах нет ответа на этот вопрос."
    assert refusal_message("en", unit_settings).startswith("I could not find")


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Каков объем торговли?", "ru"),
        ("What was the trade volume?", "en"),
        ("Что такое Green Corridor Union LLC?", "ru"),
        ("What is Tenge Bank?", "en"),
        ("Who is Равшан Назаров?", "en"),
        ("2025?", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
