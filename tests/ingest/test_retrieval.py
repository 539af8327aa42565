"""Retrieval on the real seed index with the default embedder, and the fusion rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.ingest.load import load_path
from rag.search.fuse import METHODS, Ranked, fuse
from rag.search.retrieve import Retriever
from rag.text.terms import tokenize

CASES = [
    ("Какой объем взаимной торговли за январь-сентябрь 2025 года?", "3,39 млрд"),
    ("Where did the XII summit of the Organization of Turkic States take place?", "Габале"),
    ("По какому маршруту идет железнодорожный тур по Великому шелковому пути?", "Туркестан"),
]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_known_facts_are_retrieved(seed_retriever: Retriever, mode: str) -> None:
    for question, fact in CASES[:2] if mode == "lexical" else CASES:
        if mode == "lexical" and question.isascii():
            continue  # BM25 cannot match English words against a Russian text
        texts = [p.chunk.text for p in seed_retriever.search(question, 5, mode)]
        assert any(fact in t for t in texts), (mode, question)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_ranks_scores_and_offsets(seed_retriever: Retriever, mode: str) -> None:
    passages = seed_retriever.search("инвестиции в совместные проекты", 4, mode)
    assert [p.rank for p in passages] == [1, 2, 3, 4]
    assert all(a.score >= b.score for a, b in zip(passages, passages[1:], strict=False))
    assert len({p.chunk.chunk_id for p in passages}) == 4
    for p in passages:  # each passage is exactly the slice of its source that its offsets name
        source = load_path(Path(p.chunk.source)).text
        assert source[p.chunk.start : p.chunk.end] == p.chunk.text, p.chunk.chunk_id


def test_tokenize_stems_russian_and_english_and_keeps_numbers() -> None:
    assert tokenize("Торговли торговля Trading trades 3,39 млрд Ёлка") == [
        "торговл",
        "торговл",
        "trade",
        "trade",
        "3.39",
        "млрд",
        "елк",
    ]
    assert tokenize("и в the of") == []


@pytest.mark.parametrize("method", METHODS)
def test_fusion_rewards_agreement(method: str) -> None:
    dense = Ranked(np.array([0, 1, 2]), np.array([0.9, 0.85, 0.8], dtype=np.float32))
    lexical = np.array([0.0, 5.0, 1.0, 0.0], dtype=np.float32)  # row 3 matches nothing
    ids, scores = fuse(dense, lexical, depth=3, method=method)
    assert ids[0] == 1  # second for dense, first for BM25: the consensus wins
    assert 3 not in ids
    assert list(scores) == sorted(scores, reverse=True)


def test_a_lexical_ranker_with_nothing_to_match_gets_no_vote() -> None:
    dense = Ranked(np.arange(5), np.array([0.9, 0.85, 0.8, 0.75, 0.7], dtype=np.float32))
    lexical = np.array([0.0, 0.0, 9.0, 0.0, 0.0], dtype=np.float32)  # BM25 matched only a number in row 2
    full, _ = fuse(dense, lexical, depth=5, coverage=1.0)
    none, _ = fuse(dense, lexical, depth=5, coverage=0.0)
    assert full[0] == 2 and list(none) == [0, 1, 2, 3, 4]


def test_the_sentence_signal_lifts_a_passage_with_one_matching_sentence() -> None:
    dense = Ranked(np.array([0, 1, 2]), np.array([0.85, 0.84, 0.70], dtype=np.float32))
    lexical = np.zeros(3, dtype=np.float32)
    best_sentence = {0: 0.80, 1: 0.95, 2: 0.70}
    ids, _ = fuse(dense, lexical, depth=3, sentence=lambda rows: np.array([best_sentence[int(r)] for r in rows]))
    assert list(ids[:2]) == [1, 0]


@pytest.mark.parametrize("titles", [True, False])
def test_a_passage_is_found_by_its_title(tmp_path: Path, titles: bool) -> None:
    from rag.config import load_settings
    from rag.embed import get_embedder
    from rag.ingest.pipeline import ingest_paths
    from rag.search.retrieve import open_retriever

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "golikova.md").write_text(
        "# Татьяна Голикова\n\nРоссийский государственный деятель, экономист и министр.\n\n"
        "## Биография\n\nРодилась 9 февраля 1966 года в Мытищах Московской области. "
        "Окончила Московский институт народного хозяйства имени Плеханова в 1987 году.\n",
        encoding="utf-8",
    )
    (docs / "other.md").write_text(
        "# Улица Рождественка\n\nУлица в центре Москвы, от Театральной площади до бульваров.\n", encoding="utf-8"
    )
    settings = load_settings(env={}, index_dir=tmp_path / "index", embedder="hashing", passage_titles=titles)
    embedder = get_embedder("hashing")
    ingest_paths([docs], settings, embedder, progress=False)
    retriever = open_retriever(settings, embedder)
    biography = next(c for c in retriever.chunks if "Родилась" in c.text)
    assert "Голикова" not in biography.text and "Голикова" in biography.title  # quoted text stays the text
    found = [p.chunk.chunk_id for p in retriever.search("Голиковой", 5, "lexical")]
    assert (biography.chunk_id in found) is titles


def test_sentences_are_embedded_under_a_title_in_their_language() -> None:
    from rag.types import Chunk

    def chunk(title: str, text: str) -> Chunk:
        return Chunk("d#0", "d", "d.md", title, text, 0, len(text), 0)

    ru = chunk("Голикова, Татьяна Алексеевна", "Родилась 9 февраля 1966 года. Окончила институт в 1987 году.")
    assert ru.sentence_text(30, 60, True) == "Голикова, Татьяна Алексеевна\nОкончила институт в 1987 году."
    assert ru.sentence_text(30, 60, False) == "Окончила институт в 1987 году."
    slug = chunk("Super Bowl 50", "Матч прошёл 7 февраля 2016 года.")  # an English title over Russian text
    assert slug.sentence_text(0, 32, True) == "Матч прошёл 7 февраля 2016 года."
    opening = (  # a text without a heading: the loader's title is its first line, 17 words
        "Стороны обсудили водные ресурсы бассейна Сырдарьи, графики попусков воды"
        " в вегетационный период и совместное строительство"
    )
    untitled = chunk(opening + " Камбаратинской ГЭС.", opening + " Камбаратинской ГЭС. Решения приняты.")
    assert untitled.sentence_text(len(untitled.title) + 1, len(untitled.text), True) == "Решения приняты."
    headed = chunk("Вода", "Вода\nСтороны обсудили водные ресурсы.")  # a heading joined to its paragraph
    assert headed.sentence_text(0, 4, True) == "Вода"  # the sentence that is the title is not titled again
    assert headed.sentence_text(5, 37, True) == "Вода\nСтороны обсудили водные ресурсы."


def test_stored_sentence_vectors_are_what_question_time_would_embed(tmp_path: Path) -> None:
    """Scoring embeds the sentences itself when passages come without stored vectors (an index built
    without them); it must embed the same texts ingest did, so the fitted model reads the same signals."""
    from dataclasses import replace

    from rag.answer.relevance import sentence_rows
    from rag.config import load_settings
    from rag.embed import get_embedder
    from rag.ingest.pipeline import ingest_paths
    from rag.search.retrieve import open_retriever

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "golikova.md").write_text(
        "# Татьяна Голикова\n\nРоссийский государственный деятель.\n\n"
        "## Биография\n\nРодилась 9 февраля 1966 года в Мытищах. Окончила институт в 1987 году.\n",
        encoding="utf-8",
    )
    embedder = get_embedder("hashing")
    settings = load_settings(env={}, index_dir=tmp_path / "index", embedder="hashing")
    ingest_paths([docs], settings, embedder, progress=False)
    passages = open_retriever(settings, embedder).search("Когда родилась Голикова?", 3)
    assert all(p.sentence_vectors is not None for p in passages)
    bare = [replace(p, sentence_vectors=None) for p in passages]
    stored, embedded = (sentence_rows("Когда родилась Голикова?", ps, embedder)[1] for ps in (passages, bare))
    assert np.allclose(stored, embedded)
    biography = next(p for p in passages if "Родилась" in p.chunk.text).chunk
    assert "Голикова" in biography.sentence_text(0, 10, True) and "Голикова" not in biography.text
