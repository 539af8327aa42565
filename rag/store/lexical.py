"""BM25 over the stemmed terms of each chunk (``bm25s`` for scoring, ``rag.text.terms`` for terms)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.text.terms import tokenize

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

BM25_DIR = "bm25"
_EMPTY = "\u2205"  # stands in for a text with no content tokens


class LexicalIndex:
    """BM25 scores of a query against every text of a fixed corpus."""

    def __init__(self, texts: Sequence[str], terms: Sequence[list[str]] | None = None) -> None:
        """Index ``texts``; pass their ``terms`` (``tokenize`` of each) when already known."""
        self.size = len(texts)
        self._bm25 = bm25s.BM25()
        tokenized = [tokenize(t) for t in texts] if terms is None else list(terms)
        if len(tokenized) != self.size:
            raise ValueError(f"{len(tokenized)} term lists for {self.size} texts")
        self._df = Counter(t for tokens in tokenized for t in set(tokens))
        if texts:
            # An empty token list would make bm25s skip the document and shift every row id.
            self._bm25.index([tokens or [_EMPTY] for tokens in tokenized], show_progress=False)

    def save(self, directory: Path) -> None:
        """Write the index into ``directory/bm25`` (tokenizing is most of the cost of building it)."""
        if self.size:
            self._bm25.save(str(directory / BM25_DIR))

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        """The index saved in ``directory`` for a corpus of ``size`` texts."""
        index = cls.__new__(cls)
        index.size = size
        index._bm25 = bm25s.BM25()
        index._df = Counter()
        if size:
            index._bm25 = bm25s.BM25.load(str(directory / BM25_DIR))
            # Scores are stored per token as a CSC column; its length is the token's document count.
            indptr = np.asarray(index._bm25.scores["indptr"])
            columns = len(indptr) - 1  # bm25s adds an empty token to the vocabulary with no column
            vocab = index._bm25.vocab_dict.items()
            index._df = Counter({t: int(indptr[i + 1] - indptr[i]) for t, i in vocab if t and i < columns})
            index._df.pop(_EMPTY, None)
            if int(index._bm25.scores["num_docs"]) != size:
                raise ValueError(f"BM25 index holds {index._bm25.scores['num_docs']} texts, not {size}")
        return index

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of each token over the whole corpus; unseen tokens weigh most."""
        return {t: math.log((self.size + 1) / (self._df.get(t, 0) + 0.5)) for t in tokens}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score for every text, in corpus order (zeros when nothing matches)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)
