"""The signals the relevance model weighs: whole-word, bilingual answer-type checks and unseen words."""

from __future__ import annotations

import pytest

from rag.answer.signals import has_quantity, script_shares, type_mismatch, unseen_share
from rag.store.lexical import LexicalIndex
from rag.text.terms import tokenize


@pytest.mark.parametrize(
    ("sentence", "ok"),
    [
        ("Метрополитен открывали в пять этапов.", True),
        ("Метрополитен открывали в 5 этапов.", True),
        ("Сеть выросла в пятнадцать раз.", True),
        ("Метрополитен открывали поэтапно начиная с 1980 года.", False),  # a year is not a quantity
        ("Метрополитен открывали постепенно.", False),
        ("Пятерка лидеров не изменилась.", False),  # "пят" inside another word is no number
    ],
)
def test_how_many_needs_a_number_in_digits_or_words(sentence: str, ok: bool) -> None:
    assert type_mismatch("Сколько этапов было у открытия метрополитена?", sentence) is not ok
    assert not type_mismatch("Как открывали метрополитен?", sentence)  # no type asked


@pytest.mark.parametrize(
    ("question", "asks_quantity"),
    [
        # A measure asked by name is a quantity in both languages, as "how long / how tall" is.
        ("Какова длина Волги?", True),
        ("Какова пропускная мощность коридора в гигаваттах?", True),
        ("Какая численность населения Мексики?", True),
        ("Каков курс тенге к суму?", True),
        ("What is the population of Kazakhstan?", True),
        ("What was the total cost of the bridge?", True),
        ("How long is the Volga?", True),
        # Not a measure: the noun is not one, or is not what is asked.
        ("Какова роль Казахстана в регионе?", False),
        ("Какая страна имеет наибольшую площадь?", False),
        ("What is the role of the council?", False),
        ("Какова длинная история города?", False),  # "длинная" is no "длина"
    ],
)
def test_a_named_measure_asks_for_a_number(question: str, asks_quantity: bool) -> None:
    assert type_mismatch(question, "Река течёт на юг.") is asks_quantity
    assert not type_mismatch(question, "Её длина 3530 километров.")


@pytest.mark.parametrize(
    ("sentence", "number"),
    [
        ("The team won fifteen games.", True),
        ("They met in the canteen.", False),  # "\w+teen" must not make a number of "canteen"
        ("Seventeen members voted.", True),
        ("The decision was unanimous.", False),
    ],
)
def test_english_number_words_are_whole_words(sentence: str, number: bool) -> None:
    assert has_quantity(sentence) is number


@pytest.mark.parametrize(
    ("question", "sentence", "ok"),
    [
        ("When did the bridge open?", "The bridge opened in March.", True),
        ("When did the bridge open?", "The bridge opened after a long delay.", False),
        ("Когда открыли мост?", "Мост открыли в мае.", True),
        ("Когда открыли мост?", "Мост открыли после долгой задержки.", False),
        # Time words are whole words: "Майами" holds "май", "погодные" holds "год".
        ("Когда открыли мост?", "Мост в Майами открыли несмотря на погодные условия.", False),
        ("In what year was it built?", "It was built in 1931.", True),
        # The Russian forms that match the English ones ("in which decade", "until what time").
        ("В каком десятилетии перешли на цвет?", "На цвет перешли постепенно.", False),
        ("В каком десятилетии перешли на цвет?", "На цвет перешли в 1970-х.", True),
        ("До какого времени действовал указ?", "Указ действовал до весны.", True),
        ("В какие годы шла война?", "Война шла долго.", False),
        ("At what age did she retire?", "She retired after a long career.", False),
        ("Какого цвета флаг?", "Флаг зелёный.", True),  # "какого" alone asks no time
    ],
)
def test_when_needs_a_time_word_in_either_language(question: str, sentence: str, ok: bool) -> None:
    assert type_mismatch(question, sentence) is not ok


def test_a_question_word_the_corpus_never_uses_is_evidence_against_answering() -> None:
    corpus = LexicalIndex(["Товарооборот вырос на 18 процентов.", "Инвестиции достигли двух миллиардов."])
    known = set(tokenize("Как вырос товарооборот?"))
    foreign = set(tokenize("Каков ВВП Казахстана?"))
    weights = corpus.idf(sorted(known | foreign))
    russian = script_shares(["Товарооборот вырос на 18 процентов, сообщил Reuters."])
    assert unseen_share(known, weights, corpus, russian) == 0.0
    assert unseen_share(foreign, weights, corpus, russian) == pytest.approx(1.0)
    # English words over a Russian corpus say nothing: the corpus is not written in that script.
    english = set(tokenize("How much did trade grow?"))
    assert unseen_share(english, corpus.idf(sorted(english)), corpus, russian) == 0.0
    assert unseen_share(foreign, weights, None, russian) == 0.0  # no corpus statistics: no evidence


def test_a_table_row_offers_the_words_of_its_header_row() -> None:
    """A row's cells say what they are only through the header: the row's lexical coverage reads
    the header too, as its vector is embedded under it."""
    import numpy as np

    from rag.answer.signals import FEATURES, Sentence, features

    table = (
        "Тип пропуска | Срок изготовления | Срок действия\n"
        "Постоянный | 2 рабочих дня | 3 года\n"
        "Временный | в день обращения | 1 месяц"
    )
    row = table.rsplit("\n", 1)[1]
    question = "Какой срок изготовления временного пропуска?"

    def lexical(passage: str) -> float:
        start = passage.index(row)
        rows = features(
            question,
            np.ones(2) / np.sqrt(2),
            [Sentence(0, start, start + len(row), row)],
            np.ones((1, 2)),
            [passage],
            [1.0],
        )
        return float(rows[0, FEATURES.index("lexical")])

    assert lexical(table) > lexical(row) > 0  # alone, only "временного" matches
