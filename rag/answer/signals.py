"""The evidence that a sentence answers a question, as numbers a fitted model weighs.

Each sentence of the retrieved passages gets one row of :data:`FEATURES`; ``rag.answer.relevance``
turns rows into the probability that the sentence answers the question. Nothing here is weighted
by hand: the weights come from ``evals/fit_relevance.py``. The signals are cheap and work for
Russian and English questions over a Russian or English corpus:

- dense: cosine of the question and the sentence (e5 query vs passage vectors), the best of the
  sentence's neighbours in its passage ("Он также..." continues the sentence that names him), and
  the sentence's cosine relative to the best sentence of the retrieved passages;
- lexical: the idf-weighted share of the question's stemmed terms the sentence holds (a table row
  with its table's header row), with its neighbours, and in its whole passage with the passage's
  title (the document and section a question names: a paragraph about someone often names them
  only in its title). Across scripts
  only numbers and Latin names can match, so the share is taken over those terms alone;
- unseen: the idf-weighted share of the question's terms that occur nowhere in the corpus (in a
  script the corpus is written in). A word the corpus never uses is evidence it cannot answer;
- answer type: a "how many / сколько" question, or one naming a measure ("какова длина", "what is
  the population"), needs a number in digits or words, a "when / когда"
  question a date or time word, and years the question names must occur in the passage;
- retrieval: the passage's fused score relative to the best passage's, its fused score itself
  (with the default fusion, a sum of z-scores: how far the passage stands out from the pool) and
  how far the best passage stands out from the second, whether it is the first passage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.text.sentences import under_table_header
from rag.text.terms import tokenize

FEATURES = (
    "dense",
    "dense_context",
    "dense_gap",
    "lexical",
    "lexical_context",
    "lexical_passage",
    "unseen",
    "cross_script",
    "type_mismatch",
    "year_missing",
    "passage_score",
    "passage_fused",
    "top_margin",
    "first_passage",
)

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"^(1[5-9]|20)\d\d$")
_QUANTITY_Q = re.compile(
    r"\b(сколько|скольки\w*|на сколько|во сколько|какое количество|какой процент|"
    r"how (many|much|long|far|old|tall|high|large|big)|what (percentage|percent|number|amount|proportion)|"
    r"(каков[аоы]?|какая|какое|какой) (\w+ )?(длина|высота|глубина|ширина|площадь|численность|население|мощность|"
    r"стоимость|цена|протяж[её]нность|скорость|температура|масса|вес|объ[её]м|размер|доля|сумма|курс|тираж)|"
    r"what (is|was|are|were) the (\w+ ){0,2}(length|height|depth|width|area|population|capacity|cost|price|speed|"
    r"temperature|mass|weight|volume|size|share|amount|rate))\b",
    re.IGNORECASE,
)
# Numbers spelled out, whole words only ("в пять этапов", "в десять раз", "two thirds").
_NUMBER_WORD = re.compile(
    r"\b(один|одна|одно|одного|одной|два|две|двух|двум|двумя|три|трех|трёх|трем|тремя|четыре|четырех|четырем|"
    r"пять|пяти|пятью|шесть|шести|семь|семи|восемь|восьми|девять|девяти|десять|десяти|"
    r"(одиннадцат|двенадцат|тринадцат|четырнадцат|пятнадцат|шестнадцат|семнадцат|восемнадцат|девятнадцат)\w*|"
    r"двадцат\w*|тридцат\w*|сорок[аы]?|(пять|шесть|семь|восемь|пяти|шести|семи|восьми)десят\w*|девяност\w*|"
    r"сто|ста|двест[иа]|трист\w*|четырест\w*|(пят|шест|сем|восем|девят)сот\w*|тысяч\w*|миллион\w*|"
    r"миллиард\w*|полтор[аы]|половин\w*|трет[ьи]|четверт[ьи]|дюжин\w*|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
    r"thousands?|millions?|billions?|half|halves|third|quarter|dozens?)\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(
    r"\b(когда|в (каком|котором) (году|месяце|веке|столетии|десятилетии|возрасте)|в какой (день|год|период|момент)|"
    r"в какие (годы|века|месяцы)|(с|до|к) како(го|му) (года|году|времени|числа|века)|какого (числа|года)|"
    r"какая дата|"
    r"when|what (year|month|day|date|century|decade|time|age)|which (year|month|day|century|decade)|"
    r"(since|until|by) (what|which) (year|date|time)|in what year|at what age)\b",
    re.IGNORECASE,
)
_TIME_A = re.compile(
    r"\d|\b(год[а-я]*|гг?|век[а-я]*|месяц[а-я]*|недел[а-я]*|назад|сегодня|вчера|весн[а-я]*|лет[а-я]*|"
    r"осен[а-я]*|зим[а-я]*|январ[а-я]*|феврал[а-я]*|март[а-я]*|апрел[а-я]*|ма[йяе]|июн[а-я]*|июл[а-я]*|"
    r"август[а-я]*|сентябр[а-я]*|октябр[а-я]*|ноябр[а-я]*|декабр[а-я]*|years?|century|centuries|decades?|"
    r"months?|weeks?|ago|today|yesterday|spring|summer|autumn|winter|january|february|march|april|may|june|"
    r"july|august|september|october|november|december)\b",
    re.IGNORECASE,
)


class CorpusStats(Protocol):
    """What the signals need to know about the whole corpus (a store's reader provides it)."""

    def idf(self, tokens: Iterable[str]) -> dict[str, float]: ...

    def document_frequencies(self, tokens: Iterable[str]) -> dict[str, int]: ...


@dataclass(frozen=True)
class Sentence:
    """A sentence of ``passages[passage]``; ``start``/``end`` index that passage's text."""

    passage: int
    start: int
    end: int
    text: str


def script(text: str) -> str:
    """ "cyrillic" when ``text`` has a Cyrillic letter, else "latin" (numbers count as latin)."""
    return "cyrillic" if _CYRILLIC.search(text) else "latin"


def has_quantity(sentence: str) -> bool:
    """A number other than a year, in digits or in words."""
    if any(_DIGIT.search(t) and not _YEAR.match(t.strip(".,;:()")) for t in sentence.split()):
        return True
    return bool(_NUMBER_WORD.search(sentence))


def type_mismatch(question: str, sentence: str) -> bool:
    """True when the question asks for a quantity or a time the sentence does not hold."""
    if _QUANTITY_Q.search(question) and not has_quantity(sentence):
        return True
    return bool(_TIME_Q.search(question) and not _TIME_A.search(sentence))


def _local_idf(q_tokens: set[str], s_tokens: Sequence[set[str]]) -> dict[str, float]:
    """Idf over the retrieved sentences: the fallback when no corpus statistics are at hand."""
    return {t: math.log((len(s_tokens) + 1) / (sum(t in st for st in s_tokens) + 0.5)) for t in q_tokens}


def script_shares(texts: Iterable[str]) -> dict[str, float]:
    """Share of the words of ``texts`` written in each script ("cyrillic", "latin")."""
    counts = {"cyrillic": 0, "latin": 0}
    for text in texts:
        for word in _WORD.findall(text):
            counts["cyrillic" if _CYRILLIC.search(word) else "latin"] += 1
    total = max(sum(counts.values()), 1)
    return {k: v / total for k, v in counts.items()}


def unseen_share(
    q_tokens: set[str], weights: Mapping[str, float], corpus: CorpusStats | None, shares: Mapping[str, float]
) -> float:
    """Idf-weighted share of the question's terms the corpus never uses, among terms in its scripts.

    ``shares``: how much of the retrieved text is in each script; a script it hardly uses (English
    words over a Russian corpus) says nothing either way.
    """
    if corpus is None:
        return 0.0
    usable = [t for t in q_tokens if shares.get(script(t), 0.0) >= 0.25 or _DIGIT.search(t)]
    total = sum(weights.get(t, 0.0) for t in usable)
    if total <= 0:
        return 0.0
    df = corpus.document_frequencies(usable)
    return sum(weights.get(t, 0.0) for t in usable if df.get(t, 0) == 0) / total


def features(
    question: str,
    q_vec: np.ndarray,
    sentences: Sequence[Sentence],
    vectors: np.ndarray,
    passage_texts: Sequence[str],
    passage_scores: Sequence[float],
    corpus: CorpusStats | None = None,
    passage_titles: Sequence[str] = (),
) -> np.ndarray:
    """One row of :data:`FEATURES` per sentence (``passage_titles``: each passage's title, if any)."""
    n = len(sentences)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    dense = vectors @ q_vec
    q_tokens = set(tokenize(question))
    # A table row offers its table's header row's words too ("Срок изготовления" says what "в день
    # обращения" is), as the row is embedded.
    s_tokens = [set(tokenize(under_table_header(passage_texts[s.passage], s.start, s.end))) for s in sentences]
    weights = corpus.idf(sorted(q_tokens)) if corpus is not None else _local_idf(q_tokens, s_tokens)
    q_script = script(question)
    q_years = {t for t in q_tokens if _YEAR.match(t)}
    p_years = [{t for t in tokenize(p) if _YEAR.match(t)} if q_years else set() for p in passage_texts]
    unseen = unseen_share(q_tokens, weights, corpus, script_shares(passage_texts))
    titles = list(passage_titles) or [""] * len(passage_texts)
    p_tokens = [set(tokenize(f"{t}\n{p}")) for t, p in zip(titles, passage_texts, strict=True)]
    top = max(passage_scores, default=0.0)
    ranked = sorted(passage_scores, reverse=True)
    margin = ranked[0] - ranked[1] if len(ranked) > 1 else 0.0

    def coverage(tokens: set[str], cross: bool) -> float:
        usable = {t for t in q_tokens if not _CYRILLIC.search(t)} if cross else q_tokens
        total = sum(weights.get(t, 0.0) for t in usable)
        return sum(weights.get(t, 0.0) for t in usable & tokens) / total if total > 0 else 0.0

    best = float(dense.max())
    for k, s in enumerate(sentences):
        near = [m for m in (k - 1, k + 1) if 0 <= m < n and sentences[m].passage == s.passage]
        cross = script(s.text) != q_script
        lex = coverage(s_tokens[k], cross)
        out[k] = (
            dense[k],
            max([dense[k], *(dense[m] for m in near)]),
            dense[k] - best,
            lex,
            coverage(s_tokens[k].union(*(s_tokens[m] for m in near)), cross),
            coverage(p_tokens[s.passage], cross),
            unseen,
            float(cross),
            float(type_mismatch(question, s.text)),
            float(not q_years <= p_years[s.passage]),
            passage_scores[s.passage] / top if top > 0 else 0.0,
            passage_scores[s.passage],
            margin,
            float(s.passage == 0),
        )
    return out
