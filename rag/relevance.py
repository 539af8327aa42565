"""How well each sentence of the retrieved passages answers a question.

Used twice: the pipeline refuses before any LLM call when the best sentence scores below
``settings.refusal_threshold``, and the ``extractive`` generator answers with the best sentences.

A sentence's score mixes three signals, each cheap and language-neutral enough for Russian and
English questions over a Russian corpus:

- dense: cosine of the e5 query vector and the sentence's passage vector (cross-lingual);
- lexical: the idf-weighted share of the question's stemmed words found in the sentence (idf over
  the retrieved sentences, so words every sentence shares count for little). When the question is
  in another script than the sentence, only numbers and Latin names can match, so the share is
  taken over those tokens alone;
- answer type: a "how many/сколько" question needs a number in the sentence, a "when/когда"
  question a date or time expression; numbers the question names ("в 2023 году") must occur in
  the sentence's passage. A sentence that fails a check loses a fixed penalty.

The weights and the refusal threshold were set by measurement on evals/seed_questions.jsonl;
the numbers are in docs/answering.md.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunk import passage_sentences
from rag.embed import Embedder, embed_query
from rag.lexical import tokenize
from rag.types import Passage

# e5-small cosines of unrelated texts sit around 0.75-0.8, of a matching sentence near 0.9: the
# dense term is the excess over 0.75 in units of 0.15, so it runs roughly 0..1.5.
DENSE_FLOOR = 0.75
DENSE_SCALE = 0.15
LEXICAL_WEIGHT = 1.5
# A failed answer-type check is nearly a veto: it costs more than any lexical evidence gives.
TYPE_PENALTY = 1.0
# A question in another script than the sentence cannot earn the lexical term; without this shift
# every English question over the Russian corpus scored below the Russian ones and was refused.
CROSS_SCRIPT_SHIFT = 0.5
_CACHE_SIZE = 8192

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
_QUANTITY_Q = re.compile(r"\b(сколько|how (many|much|long)|what percentage|на сколько|во сколько)\b", re.IGNORECASE)
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
    score: float


class _VectorCache:
    """Thread-safe LRU of sentence vectors: the same sentences come back for related questions."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def passages(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors for ``texts``, embedding only the ones not seen recently."""
        keys = [(embedder.name, t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k[1] for k in keys if k not in self._data))
        if missing:
            fresh = embedder.embed_passages(missing)
            with self._lock:
                for text, vec in zip(missing, fresh, strict=True):
                    self._data[(embedder.name, text)] = vec
                    self._data.move_to_end((embedder.name, text))
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
        with self._lock:
            got = [self._data.get(k) for k in keys]
        vectors = [v for v in got if v is not None]
        if len(vectors) < len(keys):  # evicted meanwhile under heavy load
            return embedder.embed_passages(list(texts))
        return np.stack(vectors) if vectors else np.empty((0, embedder.dim), np.float32)


_cache = _VectorCache(_CACHE_SIZE)


def split_passage(passage: Passage) -> list[tuple[int, int]]:
    """Sentence spans of a passage's text (leading dashes of quoted speech left out)."""
    return list(passage.sentences) if passage.sentences else passage_sentences(passage.chunk.text)


def _sentence_vectors(passages: Sequence[Passage], embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of every sentence: stored at ingest when the index has them, else embedded (cached)."""
    if all(p.sentence_vectors is not None and p.sentences for p in passages):
        return np.concatenate([p.sentence_vectors for p in passages if p.sentence_vectors is not None])
    return _cache.passages(embedder, texts)


def _type_ok(question: str, sentence: str, passage_text: str, question_numbers: set[str]) -> bool:
    if _QUANTITY_Q.search(question) and not any(_NUMBER.search(t) and not _YEAR.match(t) for t in sentence.split()):
        return False
    if _TIME_Q.search(question) and not _TIME_A.search(sentence):
        return False
    passage_numbers = {t for t in tokenize(passage_text) if t[0].isdigit()}
    return question_numbers <= passage_numbers


def score_sentences(question: str, passages: Sequence[Passage], embedder: Embedder) -> list[ScoredSentence]:
    """Every sentence of ``passages`` scored against ``question``, best first."""
    spans = [(i, s, e) for i, p in enumerate(passages) for s, e in split_passage(p)]
    if not spans:
        return []
    texts = [passages[i].chunk.text[s:e] for i, s, e in spans]
    q_vec = embed_query(embedder, question)
    dense = _sentence_vectors(passages, embedder, texts) @ q_vec
    q_tokens = set(tokenize(question))
    q_numbers = {t for t in q_tokens if t[0].isdigit()}
    s_tokens = [set(tokenize(t)) for t in texts]
    df = {t: sum(t in st for st in s_tokens) for t in q_tokens}
    idf = {t: math.log((len(texts) + 1) / (df[t] + 0.5)) for t in q_tokens}
    q_cyrillic = bool(_CYRILLIC.search(question))
    out = []
    for (i, s, e), text, d, st in zip(spans, texts, dense, s_tokens, strict=True):
        # Cross-script pairs can share only numbers and Latin names: weigh just those.
        same_script = q_cyrillic == bool(_CYRILLIC.search(text))
        usable = q_tokens if same_script else {t for t in q_tokens if not _CYRILLIC.search(t)}
        total = sum(idf[t] for t in usable)
        lexical = sum(idf[t] for t in usable & st) / total if total > 0 else 0.0
        score = (float(d) - DENSE_FLOOR) / DENSE_SCALE + LEXICAL_WEIGHT * lexical
        if not same_script:
            score += CROSS_SCRIPT_SHIFT
        if not _type_ok(question, text, passages[i].chunk.text, q_numbers):
            score -= TYPE_PENALTY
        out.append(ScoredSentence(i, s, e, text, float(d), lexical, score))
    out.sort(key=lambda x: (-x.score, x.passage, x.start))
    return out
