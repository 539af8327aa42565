"""The default extractive generator on the real seed index (e5-small): facts, citations, refusals."""

from __future__ import annotations

import pytest

from rag.answer.generate import get_generator
from rag.answer.pipeline import answer_question
from rag.config import Settings
from rag.evals.normalize import fact_in
from rag.search.retrieve import Retriever

FACTOIDS = [
    ("Каков объем взаимной торговли Казахстана и Узбекистана за январь–сентябрь 2025 года?", ["3,39 млрд"]),
    ("На сколько процентов вырос экспорт из Казахстана в Узбекистан?", ["25,9"]),
    ("Где прошел XII саммит Организации тюркских государств?", ["Габал"]),
    ("Сколько предприятий с участием узбекского капитала работает в Казахстане?", ["2400"]),
    ("Какая компания строит жилые дома в Ташкенте?", ["BI Group"]),
    ("Когда состоится седьмая Консультативная встреча лидеров Центральной Азии?", ["16 ноября"]),
    ("What was the volume of mutual trade between Kazakhstan and Uzbekistan in January–September 2025?", ["3,39"]),
    ("How much did Kazakhstan invest in Uzbekistan in 2024?", ["132,1"]),
]
UNANSWERABLE = [
    # The article names the tour but no price: the closest kind of miss (docs/answering.md); answered
    # from the tour's mention until sentences were embedded under their title.
    "Сколько стоит билет на железнодорожный тур «Шелковый путь»?",
    "На сколько метров опустился уровень Аральского моря?",
    "How long does the train journey from Almaty to Tashkent take?",
]


@pytest.fixture(scope="module")
def ask(seed_settings: Settings, seed_retriever: Retriever):  # type: ignore[no-untyped-def]
    generator = get_generator("extractive", seed_settings, embedder=seed_retriever.embedder)
    return lambda q: answer_question(q, seed_retriever, generator, seed_settings)


@pytest.mark.parametrize(("question", "facts"), FACTOIDS, ids=[q[:40] for q, _ in FACTOIDS])
def test_factoid_answer_contains_the_fact_and_cites_it(ask, question: str, facts: list[str]) -> None:  # type: ignore[no-untyped-def]
    answer = ask(question)
    assert not answer.refused, answer.answer
    assert fact_in(facts, answer.answer), answer.answer
    assert any(fact_in(facts, c.text) for c in answer.citations), "no cited passage holds the fact"


def test_english_question_is_answered_in_english_terms(ask) -> None:  # type: ignore[no-untyped-def]
    answer = ask(FACTOIDS[6][0])
    assert answer.language == "en" and answer.citations


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_questions_are_refused(ask, question: str) -> None:  # type: ignore[no-untyped-def]
    answer = ask(question)
    assert answer.refused and answer.citations == ()
    expected = "I could not find" if answer.language == "en" else "В документах нет ответа"
    assert answer.answer.startswith(expected)
