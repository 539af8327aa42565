"""How well each sentence of the retrieved passages answers a question.

Used twice with the same scores: the pipeline refuses before any LLM call when no sentence's
``relevance`` reaches ``settings.refusal_threshold``, and the ``extractive`` generator quotes the
sentences with the best ``score``.

A sentence's relevance mixes signals that are cheap and language-neutral enough for Russian and
English questions over a Russian corpus:

- dense: cosine of the e5 query vector and the sentence's passage vector (cross-lingual);
- lexical: the idf-weighted share of the question's stemmed words found in the sentence. The idf
  is the corpus's (``LexicalIndex.idf``: a name the corpus rarely uses counts for much, a word
  every chunk shares for little); without it, the idf over the retrieved sentences. When the
  question is in another script than the sentence, only numbers and Latin names can match, so the
  share is taken over those tokens alone;
- neighbour context: a sentence borrows a quarter of how much better its neighbours in the same
  passage do on both terms ("Он также..." continues the sentence that names him);
- answer type: a "how many/сколько" question needs a number (digits or a number word) in the
  sentence, a "when/когда" question a date or time expression, and years the question names
  ("в 2023 году") must occur in the sentence's passage. A sentence that fails a check loses a
  fixed penalty.

The ``score`` that orders sentences for quoting adds the passage's retrieval score (relative to
the best passage's) as a prior; the refusal uses relevance alone, because the retrieval score is
rank-relative (min-max scaled in hybrid fusion) and says nothing absolute. Measured alternatives
that did not help — the dense or fused score of the best passage in the refusal decision — are in
docs/answering.md with the numbers behind every weight and the threshold.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

from rag.embed import Embedder, embed_query
from rag.text.lang import CYRILLIC as _CYRILLIC
from rag.text.sentences import passage_sentences
from rag.text.terms import tokenize
from rag.types import Passage

# e5-small cosines of unrelated texts sit around 0.75-0.8, of a matching sentence near 0.9: the
# dense term is the excess over 0.75 in units of 0.2, so it runs roughly 0..1.
DENSE_FLOOR = 0.75
DENSE_SCALE = 0.2
LEXICAL_WEIGHT = 1.5
# A failed answer-type check is nearly a veto: it costs more than any lexical evidence gives.
TYPE_PENALTY = 1.0
# A question in another script than the sentence cannot earn the lexical term; without this shift
# every English question over the Russian corpus scored below the Russian ones and was refused.
CROSS_SCRIPT_SHIFT = 0.5
# Share of a better neighbour's dense and lexical evidence a sentence borrows.
NEIGHBOUR_SHARE = 0.25
# Weight of the passage's retrieval score (over the best passage's) when ordering sentences to quote.
PASSAGE_PRIOR = 1.0
_CACHE_SIZE = 8192

_NUMBER = re.compile(r"\d")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_QUANTITY_Q = re.compile(r"\b(сколько|how (many|much|long)|what percentage|на сколько|во сколько)\b", re.IGNORECASE)
# Numbers spelled out ("открыт в пять этапов", "в десять раз", "two thirds"), whole words only.
_NUMBER_WORD = re.compile(
    r"\b(один|одна|одно|одного|одной|два|две|двух|двум|двумя|три|трех|трем|тремя|четыре|четырех|четырем|"
    r"пять|пяти|пятью|шесть|шести|семь|семи|восемь|восьми|девять|девяти|десять|десяти|\w+надцат[ьи]\w*|"
    r"двадцат\w*|тридцат\w*|сорок[аы]?|\w+десят\w*|сто|ста|двест[иа]|трист\w*|четырест\w*|"
    r"(пят|шест|сем|восем|девят)сот\w*|тысяч\w*|миллион\w*|миллиард\w*|полтор[аы]|половин\w*|трет[ьи]|"
    r"четверт[ьи]|дюжин\w*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|"
    r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|half|third|quarter|dozen)\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(r"\b(когда|в каком (году|месяце)|when|what (year|month)|which (year|month))\b", re.IGNORECASE)
_TIME_A = re.compile(
    r"\d|год|месяц|недел|назад|январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of ``passages[passage]``; ``start``/``end`` index that passage's text."""

    passage: int
    start: int
    end: int
    text: str
    dense: float
    lexical: float
    relevance: float  # how well the sentence answers the question: the refusal decision
    score: float  # relevance plus the passage's retrieval prior: the order for quoting


class _VectorCache:
    """Thread-safe LRU of sentence vectors: the same sentences come back for related questions.

    A ``cachetools.LRUCache`` under a lock; not ``functools.lru_cache``, because the misses of one
    question are embedded together, in one batch.
    """

    def __init__(self, size: int) -> None:
        self._data: LRUCache[tuple[str, str], np.ndarray] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def passages(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors for ``texts``, embedding only the ones not seen recently."""
        keys = [(embedder.name, t) for t in texts]
        with self._lock:
            found = {k: v for k in keys if (v := self._data.get(k)) is not None}
        missing = list(dict.fromkeys(k[1] for k in keys if k not in found))
        if missing:
            fresh = embedder.embed_passages(missing)
            with self._lock:
                for text, vec in zip(missing, fresh, strict=True):
                    self._data[(embedder.name, text)] = found[(embedder.name, text)] = vec
        if not keys:
            return np.empty((0, embedder.dim), np.float32)
        return np.stack([found[k] for k in keys])


_cache = _VectorCache(_CACHE_SIZE)


def split_passage(passage: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage's text (leading dashes of quoted speech left out)."""
    return list(passage.sentences) if passage.sentences else passage_sentences(passage.chunk.text)


def _sentence_vectors(passages: Sequence[Passage], embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of every sentence: stored at ingest when the index has them, else embedded (cached)."""
    if all(p.sentence_vectors is not None and p.sentences for p in passages):
        return np.concatenate([p.sentence_vectors for p in passages if p.sentence_vectors is not None])
    return _cache.passages(embedder, texts)


def _has_quantity(sentence: str) -> bool:
    """A number other than a year, in digits or in words."""
    if any(_NUMBER.search(t) and not _YEAR.match(t) for t in sentence.split()):
        return True
    return bool(_NUMBER_WORD.search(sentence))


def _type_ok(question: str, sentence: str, passage_years: set[str], question_years: set[str]) -> bool:
    if _QUANTITY_Q.search(question) and not _has_quantity(sentence):
        return False
    if _TIME_Q.search(question) and not _TIME_A.search(sentence):
        return False
    # Only years scope a fact ("в 2023 году"); other numbers in questions are often names
    # ("Суперкубок 50") that the answering passage need not repeat.
    return question_years <= passage_years


def _local_idf(q_tokens: set[str], s_tokens: Sequence[set[str]]) -> dict[str, float]:
    """Idf over the retrieved sentences: the fallback when no corpus statistics are at hand."""
    return {t: math.log((len(s_tokens) + 1) / (sum(t in st for st in s_tokens) + 0.5)) for t in q_tokens}


def _neighbours(spans: Sequence[tuple[int, int, int]], k: int) -> list[int]:
    return [m for m in (k - 1, k + 1) if 0 <= m < len(spans) and spans[m][0] == spans[k][0]]


def score_sentences(
    question: str, passages: Sequence[Passage], embedder: Embedder, idf: Mapping[str, float] | None = None
) -> list[ScoredSentence]:
    """Every sentence of ``passages`` scored against ``question``, best ``score`` first.

    ``idf`` weighs the question's tokens (corpus statistics, ``LexicalIndex.idf``); when omitted,
    idf over the retrieved sentences is used.
    """
    spans = [(i, s, e) for i, p in enumerate(passages) for s, e in split_passage(p)]
    if not spans:
        return []
    texts = [passages[i].chunk.text[s:e] for i, s, e in spans]
    q_vec = embed_query(embedder, question)
    dense = [float(d) for d in _sentence_vectors(passages, embedder, texts) @ q_vec]
    q_tokens = set(tokenize(question))
    q_years = {t for t in q_tokens if _YEAR.match(t)}
    # Years each passage mentions, tokenized once per passage (only needed when the question names one).
    p_years = [{t for t in tokenize(p.chunk.text) if _YEAR.match(t)} if q_years else set() for p in passages]
    s_tokens = [set(tokenize(t)) for t in texts]
    weights = {t: idf.get(t, 0.0) for t in q_tokens} if idf is not None else _local_idf(q_tokens, s_tokens)
    q_cyrillic = bool(_CYRILLIC.search(question))
    same_script = [q_cyrillic == bool(_CYRILLIC.search(t)) for t in texts]

    def coverage(k: int, tokens: set[str]) -> float:
        # Cross-script pairs can share only numbers and Latin names: weigh just those.
        usable = q_tokens if same_script[k] else {t for t in q_tokens if not _CYRILLIC.search(t)}
        total = sum(weights[t] for t in usable)
        return sum(weights[t] for t in usable & tokens) / total if total > 0 else 0.0

    lexical = [coverage(k, st) for k, st in enumerate(s_tokens)]
    top = max((p.score for p in passages), default=0.0)
    out = []
    for k, ((i, s, e), text) in enumerate(zip(spans, texts, strict=True)):
        near = _neighbours(spans, k)
        d, lex = dense[k], lexical[k]
        if near:
            d += NEIGHBOUR_SHARE * max(0.0, max(dense[m] for m in near) - d)
            lex += NEIGHBOUR_SHARE * (coverage(k, s_tokens[k].union(*(s_tokens[m] for m in near))) - lex)
        relevance = (d - DENSE_FLOOR) / DENSE_SCALE + LEXICAL_WEIGHT * lex
        if not same_script[k]:
            relevance += CROSS_SCRIPT_SHIFT
        if not _type_ok(question, text, p_years[i], q_years):
            relevance -= TYPE_PENALTY
        prior = PASSAGE_PRIOR * passages[i].score / top if top > 0 else 0.0
        out.append(ScoredSentence(i, s, e, text, dense[k], lexical[k], relevance, relevance + prior))
    out.sort(key=lambda x: (-x.score, x.passage, x.start))
    return out


def best_relevance(scored: Sequence[ScoredSentence]) -> float:
    """The highest relevance among ``scored`` (-inf when there are no sentences)."""
    return max((s.relevance for s in scored), default=-math.inf)


def should_refuse(scored: Sequence[ScoredSentence], threshold: float) -> bool:
    """True when no sentence is relevant enough to answer from."""
    return best_relevance(scored) < threshold
