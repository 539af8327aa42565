"""BM25 over the stemmed terms of each chunk (``bm25s`` for scoring, ``rag.text.terms`` for terms).

Document frequencies (for ``idf``, which relevance scoring uses) are counted here while tokenizing
and saved beside bm25s's files: bm25s has no public API for them (its ``_calculate_doc_freqs`` is
private and the counts are not kept on the index), and reading them back from its score matrix
meant depending on the layout of ``BM25.scores``.
"""

from __future__ import annotations

import json
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
DF_FILE = "doc_freqs.json"  # ours, beside bm25s's files in BM25_DIR
STATS_FILE = "stats.json"  # ours: the average length a delta segment scores with (rag.store.faiss.delta)
K1, B = 1.5, 0.75  # bm25s's defaults (its "lucene" variant), which every index here uses
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
        # bm25s counts an empty text as one placeholder token.
        self.avgdl: float | None = sum(len(t) or 1 for t in tokenized) / self.size if self.size else None
        if texts:
            # An empty token list would make bm25s skip the document and shift every row id.
            self._bm25.index([tokens or [_EMPTY] for tokens in tokenized], show_progress=False)

    def save(self, directory: Path) -> None:
        """Write the index into ``directory/bm25`` (tokenizing is most of the cost of building it)."""
        if self.size:
            self._bm25.save(str(directory / BM25_DIR))
            (directory / BM25_DIR / DF_FILE).write_text(json.dumps(self._df, ensure_ascii=False), encoding="utf-8")
            stats = {"avgdl": self.avgdl, "k1": K1, "b": B}
            (directory / BM25_DIR / STATS_FILE).write_text(json.dumps(stats), encoding="utf-8")

    @staticmethod
    def is_saved(directory: Path) -> bool:
        """Whether ``directory`` holds a saved index (snapshots from before doc_freqs.json do not)."""
        return (directory / BM25_DIR / DF_FILE).is_file()

    @staticmethod
    def has_stats(directory: Path) -> bool:
        """Whether the saved index has the average length a delta segment needs."""
        return (directory / BM25_DIR / STATS_FILE).is_file()

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        """The index saved in ``directory`` for a corpus of ``size`` texts."""
        index = cls.__new__(cls)
        index.size = size
        index._bm25 = bm25s.BM25()
        index._df = Counter()
        index.avgdl = None
        if size:
            # Memory-mapped: a search touches only its terms' postings, and processes share the pages.
            index._bm25 = bm25s.BM25.load(str(directory / BM25_DIR), mmap=True)
            df = json.loads((directory / BM25_DIR / DF_FILE).read_text(encoding="utf-8"))
            if not isinstance(df, dict):
                raise ValueError(f"{DF_FILE} is not an object")
            index._df = Counter({str(t): int(n) for t, n in df.items()})
            stats = directory / BM25_DIR / STATS_FILE
            if stats.is_file():  # indexes written before it have none, and take no delta segment
                index.avgdl = float(json.loads(stats.read_text(encoding="utf-8"))["avgdl"])
            if int(index._bm25.scores["num_docs"]) != size:
                raise ValueError(f"BM25 index holds {index._bm25.scores['num_docs']} texts, not {size}")
        return index

    def document_frequencies(self, tokens: Iterable[str]) -> dict[str, int]:
        """How many texts of the corpus hold each token (a stemmed term)."""
        return {t: self._df.get(t, 0) for t in tokens}

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of each token over the whole corpus; unseen tokens weigh most."""
        return {t: math.log((self.size + 1) / (self._df.get(t, 0) + 0.5)) for t in tokens}

    def term_scores(self, token: str) -> np.ndarray | None:
        """BM25 score of one token for every text (None when the corpus never uses it)."""
        tid = self._bm25.vocab_dict.get(token) if self.size else None
        if tid is None:
            return None
        return np.asarray(self._bm25.get_scores_from_ids([tid]), dtype=np.float32)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score for every text, in corpus order (zeros when nothing matches)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)


def bm25_idf(df: int, n: int) -> float:
    """The idf bm25s scores with (its "lucene" variant)."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
