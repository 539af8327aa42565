"""Sentence relevance (rag.answer.relevance): the fitted model on the real embedder, and how the
pipeline hands its scores to the extractive answer."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.answer.generate.extractive import MAX_SENTENCES, ExtractiveGenerator, answer_shares, quoted
from rag.answer.pipeline import answer_question
from rag.answer.relevance import (
    ScoredSentence,
    best_relevance,
    model_for,
    score_sentences,
    sentence_rows,
    should_refuse,
)
from rag.answer.signals import FEATURES
from rag.config import Settings
from rag.embed import clear_query_cache, embed_query, get_embedder
from rag.embed.hashing import HashingEmbedder
from rag.errors import ConfigError
from rag.store.lexical import LexicalIndex
from rag.text.terms import tokenize
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION, make_passages

EMBEDDER = HashingEmbedder()


@pytest.fixture(scope="module")
def e5():  # type: ignore[no-untyped-def]
    return get_embedder("e5-small")


SEED_LIKE = [
    "Казахстан и Узбекистан подписали соглашение о создании международного центра.",
    "Только за январь–сентябрь 2025 года объем взаимной торговли достиг 3,39 млрд долларов США.",
    "Стороны обсудили водные ресурсы и транспортные коридоры.",
]


def _feature(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, FEATURES.index(name)]


class _Stats:
    """Corpus statistics with fixed idf weights (every term seen)."""

    def __init__(self, idf: dict[str, float]) -> None:
        self.weights = idf

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        return {t: self.weights.get(t, 0.0) for t in tokens}

    def document_frequencies(self, tokens: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(tokens, 1)


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
    by_rare = {s.text: s.lexical for s in score_sentences(question, make_passages(texts), EMBEDDER, _Stats(rare_tesla))}
    by_common = {
        s.text: s.lexical for s in score_sentences(question, make_passages(texts), EMBEDDER, _Stats(common_tesla))
    }
    assert by_rare[texts[0]] > 0.9 and by_rare[texts[1]] < 0.5
    assert by_common[texts[1]] > by_rare[texts[1]]


def test_the_answering_sentence_ranks_first_and_an_unrelated_question_is_refused(e5) -> None:  # type: ignore[no-untyped-def]
    passages = make_passages(SEED_LIKE)
    corpus = LexicalIndex(SEED_LIKE)
    scored = score_sentences(TRADE_QUESTION, passages, e5, corpus)
    assert "3,39" in scored[0].text and scored[0].relevance > scored[1].relevance + 1.0
    off_topic = score_sentences("Сколько стоит билет на Луну?", passages, e5, corpus)
    assert should_refuse(off_topic, 0.0)
    assert best_relevance(off_topic) < best_relevance(scored) - 2.0


def test_a_question_word_the_corpus_never_uses_lowers_relevance(e5) -> None:  # type: ignore[no-untyped-def]
    passages = make_passages(SEED_LIKE)
    known = LexicalIndex(SEED_LIKE + ["Валовой внутренний продукт вырос."])
    unknown = LexicalIndex(SEED_LIKE)
    question = "Каков валовой внутренний продукт Казахстана?"
    assert best_relevance(score_sentences(question, passages, e5, unknown)) < best_relevance(
        score_sentences(question, passages, e5, known)
    )


def test_signals_neighbours_years_and_types(e5) -> None:  # type: ignore[no-untyped-def]
    lead = "Пейтон Мэннинг провел свой последний сезон в команде в 2015 году."
    follow = "Он также самый старый защитник в финале."
    question = "Кем был Пейтон Мэннинг в финале 2015 года?"
    together = make_passages([f"{lead} {follow}"])
    _, rows = sentence_rows(question, together, e5)
    assert _feature(rows, "dense_context")[1] >= _feature(rows, "dense")[1]  # borrows from its neighbour
    assert _feature(rows, "lexical_context")[1] > _feature(rows, "lexical")[1]
    assert list(_feature(rows, "year_missing")) == [0.0, 0.0]
    _, other_year = sentence_rows("Кем был Мэннинг в финале 2016 года?", together, e5)
    assert list(_feature(other_year, "year_missing")) == [1.0, 1.0]
    _, how_many = sentence_rows("Сколько сезонов провел Мэннинг?", together, e5)
    assert list(_feature(how_many, "type_mismatch")) == [1.0, 1.0]  # a year is no count
    # In another script only numbers and Latin names can match.
    _, english = sentence_rows("What did Manning do in 2015?", together, e5)
    assert list(_feature(english, "cross_script")) == [1.0, 1.0] and 0.0 < _feature(english, "lexical")[0] < 1.0


def test_a_subject_named_only_in_the_title_counts_for_the_passage(e5) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    text = "Родилась 9 февраля 1966 года в Мытищах. Окончила институт в 1987 году."
    plain = make_passages([text])
    titled = [dataclasses.replace(p, chunk=dataclasses.replace(p.chunk, title="Голикова, Татьяна")) for p in plain]
    question = "Когда родилась Татьяна Голикова?"
    _, without = sentence_rows(question, plain, e5)
    _, with_title = sentence_rows(question, titled, e5)
    # "родилась" matches either way; the name only through the title, and it is the rarer word.
    assert all(_feature(with_title, "lexical_passage") > _feature(without, "lexical_passage") + 0.3)
    assert list(_feature(with_title, "lexical")) == list(_feature(without, "lexical"))  # sentences unchanged


def test_the_model_file_matches_the_signals_and_bad_files_are_refused(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    model = model_for("e5-small")
    assert len(model.coef) == len(FEATURES)
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"features": ["dense"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0}))
    with pytest.raises(ConfigError, match="other features"):
        model_for("x", bad)
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        model_for("x", bad)
    with caplog.at_level(logging.WARNING, logger="rag.answer.relevance"):
        assert model_for("never-fitted-embedder").coef.tolist() == model.coef.tolist()
    assert "no relevance model fitted for never-fitted-embedder" in caplog.text


def test_same_sentence_in_a_better_retrieved_passage_is_quoted_first(e5) -> None:  # type: ignore[no-untyped-def]
    text = "Объем взаимной торговли достиг 3,39 млрд долларов США."
    passages = make_passages([text, text])
    low_first = [dataclasses.replace(passages[0], score=0.2), dataclasses.replace(passages[1], score=1.0)]
    scored = score_sentences(TRADE_QUESTION, low_first, e5)
    assert scored[0].passage == 1
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
    expected = score_sentences(TRADE_QUESTION, passages, EMBEDDER, retriever.lexical)
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


def _sentences(*scores: float, texts: Sequence[str] = (), passages: Sequence[int] = ()) -> list[ScoredSentence]:
    """Scored sentences, each of its own passage unless ``passages`` says otherwise."""
    passages = list(passages) or list(range(len(scores)))
    texts = list(texts) or [f"Предложение номер {i}." for i in range(len(scores))]
    return [ScoredSentence(p, 0, len(t), t, 0.0, 0.0, z, z) for p, z, t in zip(passages, scores, texts, strict=True)]


def test_a_confident_best_sentence_is_quoted_alone_an_unsure_one_with_more_of_its_passage() -> None:
    confident = _sentences(3.0, -2.0, -3.0, passages=[0, 0, 0])  # the best holds 99% of the chance
    assert answer_shares(confident)[0] > 0.99 and sum(answer_shares(confident)) == pytest.approx(1.0)
    assert [s.text for s in quoted(confident, 0.0, 0.8)] == [confident[0].text]
    unsure = _sentences(-0.5, -0.8, -1.1, passages=[0, 1, 0])  # the best holds about 40%
    # The runner-up of another passage is not cited for lack of confidence; the next of the same passage is.
    assert [(s.passage, s.score) for s in quoted(unsure, 0.0, 0.8)] == [(0, -0.5), (0, -1.1)]
    assert [s.score for s in quoted(unsure, 0.0, 0.3)] == [-0.5]  # enough coverage already
    assert [s.score for s in quoted(unsure, 0.0, 0.0)] == [-0.5]  # 0: one sentence
    # A sentence reaching the threshold comes along from any passage, even when the best is confident.
    assert [s.passage for s in quoted(_sentences(6.0, 1.0), 0.0, 0.8)] == [0, 1]
    assert [s.passage for s in quoted(_sentences(6.0, -1.0), 0.0, 0.8)] == [0]
    # Never more than two sentences; a repeat of a quoted sentence (overlapping windows) is skipped.
    assert len(quoted(_sentences(0.1, 0.1, 0.1, 0.1, passages=[0, 0, 0, 0]), 0.0, 1.0)) == MAX_SENTENCES
    same = _sentences(-0.5, -0.6, -0.7, texts=["Одно и то же.", "Одно и то же. ", "Другое."], passages=[0, 1, 0])
    assert [s.text for s in quoted(same, 0.0, 0.9)] == ["Одно и то же.", "Другое."]
    assert quoted([], 0.0, 0.8) == []


def test_sentences_of_one_passage_share_one_citation_marker() -> None:
    settings = Settings(answer_coverage=0.8, refusal_threshold=-1.0)
    generator = ExtractiveGenerator(settings, embedder=HashingEmbedder(64))
    unsure = _sentences(-0.5, -1.2, -1.5, texts=["Первое.", "Чужое.", "Второе [7]."], passages=[0, 1, 0])
    # One marker after the run of passage 1's sentences; quoted text's own brackets are neutralized.
    assert "".join(generator.quote("вопрос", [], unsure, "ru")) == "Первое. Второе ［7］. [1]"
    apart = _sentences(6.0, 1.0, texts=["Одно.", "Другое."])
    assert "".join(generator.quote("вопрос", [], apart, "ru")) == "Одно. [1] Другое. [2]"
