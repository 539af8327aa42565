"""How well each sentence of the retrieved passages answers a question: a fitted model.

Used twice with the same scores: the pipeline refuses before any LLM call when no sentence's
``relevance`` reaches ``settings.refusal_threshold``, and the ``extractive`` generator quotes the
sentences with the best ``score``.

A sentence's relevance is the log-odds, from a logistic regression over the signals of
:mod:`rag.answer.signals`, that it holds the answer. The weights and the intercept are fitted by
``evals/fit_relevance.py`` on benchmark questions: every answerable question (the sentences holding
its gold answer are the positives, the other retrieved sentences negatives) and the same questions
with their paragraph left out of the corpus (all retrieved sentences negatives: the hard cases a
retriever still finds something for). The intercept is shifted so that the operating point the fit
chose is log-odds 0, which is ``refusal_threshold``'s default. One file per embedder in
``rag/answer/models/`` (cosines mean different things for another embedder); an embedder without
its own file uses e5-small's until it is refitted (docs/answering.md says how).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from rag.answer.signals import FEATURES, CorpusStats, Sentence, features
from rag.embed import Embedder, embed_query
from rag.errors import ConfigError
from rag.text.sentences import passage_sentences
from rag.types import Passage

log = logging.getLogger(__name__)
_CACHE_SIZE = 8192
DEFAULT_MODEL = "e5-small"


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence of ``passages[passage]``; ``start``/``end`` index that passage's text."""

    passage: int
    start: int
    end: int
    text: str
    dense: float
    lexical: float
    relevance: float  # log-odds that the sentence answers the question: the refusal decision
    score: float  # the order for quoting (the same log-odds)


@dataclass(frozen=True)
class RelevanceModel:
    """Logistic regression over standardized :data:`FEATURES`."""

    name: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Log-odds that each row's sentence answers the question."""
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept, dtype=np.float64)

    @classmethod
    def from_dict(cls, data: dict[str, object], name: str) -> RelevanceModel:
        """A model from its JSON form (as ``evals/fit_relevance.py`` writes it)."""
        try:
            names: tuple[str, ...] = tuple(data["features"])  # type: ignore[arg-type]
            if names != FEATURES:
                raise ConfigError(f"relevance model {name} was fitted on other features: refit it")
            return cls(
                name,
                np.asarray(data["mean"], dtype=np.float64),
                np.asarray(data["scale"], dtype=np.float64),
                np.asarray(data["coef"], dtype=np.float64),
                float(data["intercept"]),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"relevance model {name} is malformed: {exc}") from None

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
        }


def _slug(embedder_name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder_name)


@lru_cache(maxsize=8)
def model_for(embedder_name: str, path: Path | None = None) -> RelevanceModel:
    """The fitted model for an embedder: ``path`` when given, else the packaged file for it."""
    if path is not None:
        try:
            return RelevanceModel.from_dict(json.loads(Path(path).read_text(encoding="utf-8")), Path(path).name)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read relevance model {Path(path).name}: {exc}") from None
    models = resources.files("rag.answer") / "models"
    for candidate in (_slug(embedder_name), DEFAULT_MODEL):
        f = models / f"{candidate}.json"
        if f.is_file():
            if candidate != _slug(embedder_name):
                log.warning(
                    "no relevance model fitted for %s; using %s's (see docs/answering.md)", embedder_name, candidate
                )
            return RelevanceModel.from_dict(json.loads(f.read_text(encoding="utf-8")), f.name)
    raise ConfigError(f"no relevance model for {embedder_name} and none for {DEFAULT_MODEL}")


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


def _sentence_vectors(passages: Sequence[Passage], embedder: Embedder, sentences: Sequence[Sentence]) -> np.ndarray:
    """Vectors of every sentence: stored at ingest when the index has them, else embedded (cached)
    as ingest embeds them by default (under the passage's title, which the model was fitted on)."""
    if all(p.sentence_vectors is not None and p.sentences for p in passages):
        return np.concatenate([p.sentence_vectors for p in passages if p.sentence_vectors is not None])
    return _cache.passages(embedder, [passages[s.passage].chunk.sentence_text(s.start, s.end, True) for s in sentences])


def sentence_rows(
    question: str, passages: Sequence[Passage], embedder: Embedder, corpus: CorpusStats | None = None
) -> tuple[list[Sentence], np.ndarray]:
    """Every sentence of ``passages`` and its row of signals (what the model scores and the fit reads)."""
    sentences = [Sentence(i, s, e, p.chunk.text[s:e]) for i, p in enumerate(passages) for s, e in split_passage(p)]
    if not sentences:
        return [], np.zeros((0, len(FEATURES)))
    vectors = _sentence_vectors(passages, embedder, sentences)
    rows = features(
        question,
        embed_query(embedder, question),
        sentences,
        vectors,
        [p.chunk.text for p in passages],
        [p.score for p in passages],
        corpus,
        [p.chunk.title for p in passages],
    )
    return sentences, rows


def score_sentences(
    question: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    corpus: CorpusStats | None = None,
    model: RelevanceModel | None = None,
) -> list[ScoredSentence]:
    """Every sentence of ``passages`` scored against ``question``, best ``score`` first.

    ``corpus`` gives idf and document frequencies over the whole index (``LexicalIndex``); without
    it, idf over the retrieved sentences is used and no term counts as unseen.
    """
    sentences, rows = sentence_rows(question, passages, embedder, corpus)
    if not sentences:
        return []
    logits = (model or model_for(embedder.name)).logits(rows)
    dense_col, lex_col = FEATURES.index("dense"), FEATURES.index("lexical")
    out = [
        ScoredSentence(s.passage, s.start, s.end, s.text, float(r[dense_col]), float(r[lex_col]), float(z), float(z))
        for s, r, z in zip(sentences, rows, logits, strict=True)
    ]
    out.sort(key=lambda x: (-x.score, x.passage, x.start))
    return out


def best_relevance(scored: Sequence[ScoredSentence]) -> float:
    """The highest relevance among ``scored`` (-inf when there are no sentences)."""
    return max((s.relevance for s in scored), default=-math.inf)


def should_refuse(scored: Sequence[ScoredSentence], threshold: float) -> bool:
    """True when no sentence is relevant enough to answer from."""
    return best_relevance(scored) < threshold
