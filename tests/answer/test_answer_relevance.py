"""Sentence relevance (rag.answer.relevance) and how the pipeline hands its scores to the extractive answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from rag.answer.generate.extractive import ExtractiveGenerator
from rag.answer.pipeline import answer_question
from rag.answer.relevance import (
    DENSE_FLOOR,
    DENSE_SCALE,
    LEXICAL_WEIGHT,
    TYPE_PENALTY,
    best_relevance,
    score_sentences,
    should_refuse,
)
from rag.config import Settings
from rag.embed import clear_query_cache, embed_query, get_embedder
from rag.embed.hashing import HashingEmbedder
from rag.store.lexical import LexicalIndex
from rag.text.terms import tokenize
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION, make_passages

EMBEDDER = HashingEmbedder()


def _one(question: str, texts: list[str], **kw: object) -> dict[str, float]:
    """Relevance of each sentence of ``texts`` (one passage per text), by sentence text."""
    return {s.text: s.relevance for s in score_sentences(question, make_passages(texts), EMBEDDER, **kw)}  # type: ignore[arg-type]


def _penalty(question: str, sentence: str) -> float:
    """The answer-type penalty a one-sentence passage got: relevance minus its dense and lexical terms."""
    (s,) = score_sentences(question, make_passages([sentence]), EMBEDDER)
    return (s.dense - DENSE_FLOOR) / DENSE_SCALE + LEXICAL_WEIGHT * s.lexical - s.relevance


def test_corpus_idf_weighs_rare_words_and_unseen_words_most() -> None:
    lex = LexicalIndex(["Тесла получил патент.", "Компания получила прибыль.", "Компания построила завод."])
    idf = lex.idf(tokenize("компания Тесла Эдисон"))
    компан, тесл, эдисон = (idf[t] for t in tokenize("компания Тесла Эдисон"))
    assert эдисон > тесл > компан > 0
    assert LexicalIndex([]).idf(["x"])["x"] > 0  # an empty corpus still gives finite weights


def test_corpus_idf_changes_which_sentence_covers_the_question() -> None:
    texts = ["Тесла основал компанию в Нью-Йорке.", "Компания открыла новый завод в Нью-Йорке."]
    question = "Где Тесла основал компанию?"
    q = tokenize(question)
    # In the corpus "тесл" is rare and "компан" everywhere: covering "Тесла" must count for more.
    rare_tesla = dict.fromkeys(q, 0.1) | {tokenize("Тесла")[0]: 5.0}
    common_tesla = dict.fromkeys(q, 5.0) | {tokenize("Тесла")[0]: 0.1}
    by_rare = {s.text: s.lexical for s in score_sentences(question, make_passages(texts), EMBEDDER, rare_tesla)}
    by_common = {s.text: s.lexical for s in score_sentences(question, make_passages(texts), EMBEDDER, common_tesla)}
    assert by_rare[texts[0]] > 0.9 and by_rare[texts[1]] < 0.5
    assert by_common[texts[1]] > by_rare[texts[1]]


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("Метрополитен открывали в пять этапов.", True),
        ("Метрополитен открывали в 5 этапов.", True),
        ("Метрополитен открывали поэтапно начиная с 1980 года.", False),  # a year is not a quantity
        ("Метрополитен открывали постепенно.", False),
    ],
)
def test_how_many_needs_a_number_in_digits_or_words(sentence: str, ok: bool) -> None:
    assert _penalty("Сколько этапов было у открытия метрополитена?", sentence) == pytest.approx(
        0.0 if ok else TYPE_PENALTY, abs=1e-6
    )
    assert _penalty("Как открывали метрополитен?", sentence) == pytest.approx(0.0, abs=1e-6)  # no type asked


def test_years_scope_the_passage_but_other_numbers_do_not() -> None:
    text = "Объем инвестиций составил 132,1 млн долларов в 2024 году."
    assert _penalty("Каким был объем инвестиций в 2023 году?", text) == pytest.approx(TYPE_PENALTY, abs=1e-6)
    assert _penalty("Каким был объем инвестиций в 2024 году?", text) == pytest.approx(0.0, abs=1e-6)
    named = "Он был самым возрастным игроком Суперкубка, ему исполнилось 39 лет."
    assert _penalty("Сколько лет было игроку на Суперкубке 50?", named) == pytest.approx(0.0, abs=1e-6)


def test_a_sentence_borrows_from_its_neighbour() -> None:
    lead = "Пейтон Мэннинг провел свой последний сезон в команде."
    follow = "Он также самый старый защитник в финале."
    question = "Кем был Пейтон Мэннинг в финале?"
    idf = dict.fromkeys(tokenize(question), 1.0)  # fixed weights: only the neighbour differs
    alone = _one(question, [follow], idf=idf)[follow]
    together = _one(question, [f"{lead} {follow}"], idf=idf)[follow]
    assert together > alone
    apart = _one(question, [lead, follow], idf=idf)[follow]  # neighbours only within one passage
    assert apart == pytest.approx(alone)


def test_the_passage_prior_orders_quotes_but_not_the_refusal() -> None:
    text = "Объем взаимной торговли достиг 3,39 млрд долларов США."
    passages = make_passages([text, text])
    low_first = [dataclasses.replace(passages[0], score=0.2), dataclasses.replace(passages[1], score=1.0)]
    scored = score_sentences(TRADE_QUESTION, low_first, EMBEDDER)
    assert scored[0].passage == 1  # same sentence: the better-retrieved passage is quoted
    assert scored[0].relevance == pytest.approx(scored[1].relevance)
    assert scored[0].score - scored[1].score == pytest.approx(0.8)
    assert best_relevance(scored) == pytest.approx(scored[0].relevance)
    assert should_refuse(scored, scored[0].relevance + 0.01) and not should_refuse(scored, scored[0].relevance)
    assert should_refuse([], -100.0)


class _Exploding:
    """An embedder that fails: the generator must not score again inside the pipeline."""

    name, dim = "hashing", 256

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("the extractive generator re-scored the passages")

    embed_passages = embed_queries


class _LexicalRetriever:
    """Fixed passages plus a BM25 index over a corpus, like the real Retriever."""

    def __init__(self, passages: list[Passage], corpus: list[str]) -> None:
        self.passages, self.embedder, self.lexical = passages, EMBEDDER, LexicalIndex(corpus)

    def search(self, query: str, top_k: int = 5, mode: str = "hybrid") -> list[Passage]:
        return self.passages[:top_k]


def test_pipeline_hands_its_corpus_weighted_scores_to_the_extractive_generator(unit_settings: Settings) -> None:
    passages = make_passages()
    retriever = _LexicalRetriever(passages, [p.chunk.text for p in passages] + ["Торговля и объем."] * 20)
    expected = score_sentences(TRADE_QUESTION, passages, EMBEDDER, retriever.lexical.idf(tokenize(TRADE_QUESTION)))
    local = score_sentences(TRADE_QUESTION, passages, EMBEDDER)
    assert [s.relevance for s in expected] != [s.relevance for s in local]  # the corpus weights matter
    # Refuse exactly between the two: only corpus weights decide the outcome the pipeline reports.
    threshold = best_relevance(expected)
    settings = dataclasses.replace(unit_settings, refusal_threshold=threshold)
    generator = ExtractiveGenerator(settings, embedder=_Exploding())  # type: ignore[arg-type]
    answer = answer_question(TRADE_QUESTION, retriever, generator, settings)  # type: ignore[arg-type]
    assert not answer.refused
    assert expected[0].text.split()[0] in answer.answer and answer.citations
    higher = dataclasses.replace(settings, refusal_threshold=threshold + 1e-6)
    assert answer_question(TRADE_QUESTION, retriever, generator, higher).refused  # type: ignore[arg-type]


def test_clear_query_cache_forgets_query_vectors() -> None:
    calls: list[str] = []

    class Counting(HashingEmbedder):
        def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
            calls.extend(texts)
            return super().embed_queries(texts)

    counting = Counting(64)
    counting.name = "counting-test"
    embed_query(counting, "вопрос")
    embed_query(counting, "вопрос")
    assert calls == ["вопрос"]
    clear_query_cache()
    embed_query(counting, "вопрос")
    assert calls == ["вопрос", "вопрос"]
    assert get_embedder("hashing").name == "hashing"
