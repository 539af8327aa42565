"""BM25 over a base segment and a delta, scored as one corpus.

Document frequencies and the corpus size are the live ones (base, minus tombstoned rows, plus
delta rows), so ``idf`` and ``document_frequencies`` equal a full rebuild's. Scores: the base's
precomputed per-term scores carry the base's idf, so each query term's column is rescaled by
live idf / base idf; delta chunks are scored with the same formula (bm25s's "lucene" variant) and
the base's average length. The one difference from a full rebuild is that average length, which
a delta of at most ``DELTA_SHARE`` of the base moves little; compaction makes it exact again.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from rag.store.lexical import K1, B, LexicalIndex, bm25_idf
from rag.text.terms import tokenize


class DeltaLexical:
    """BM25 for keys ``0..base.size-1`` (the base) and ``base.size..`` (the delta)."""

    def __init__(
        self,
        base: LexicalIndex,
        tombstones: np.ndarray,
        tombstoned_terms: Iterable[list[str]],
        delta_terms: Sequence[list[str]],
    ) -> None:
        if base.avgdl is None:
            raise ValueError("the base index has no saved average length")
        self._base, self._tombstones = base, tombstones
        self.size = base.size - len(tombstones) + len(delta_terms)
        self._keys = base.size + len(delta_terms)
        # Numpy over (row, term id) pairs: a Counter per chunk cost about a second per 5,000 chunks.
        self._vocab: dict[str, int] = {}
        rows, ids = self._pairs(delta_terms)
        gone_rows, gone_ids = self._pairs(list(tombstoned_terms))
        v = max(len(self._vocab), 1)
        pairs, tf = np.unique(rows * v + ids, return_counts=True)
        rows, ids = pairs // v, pairs % v
        gone = np.unique(gone_rows * v + gone_ids) % v
        self._shift = np.bincount(ids, minlength=v) - np.bincount(gone, minlength=v)  # live df minus base df
        lengths = np.array([len(t) or 1 for t in delta_terms], dtype=np.float32)  # bm25s: an empty text is 1
        norm = K1 * ((1 - B) + B * lengths[rows] / base.avgdl) if len(rows) else np.zeros(0, dtype=np.float32)
        order = np.argsort(ids, kind="stable")
        self._rows, self._tfc = rows[order], (tf / (norm + tf)).astype(np.float32)[order]
        self._starts = np.searchsorted(ids[order], np.arange(v + 1))

    def _pairs(self, term_lists: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(row, term id) for every term occurrence, ids from ``self._vocab`` (grown as needed)."""
        vocab = self._vocab
        ids = [vocab.setdefault(t, len(vocab)) for terms in term_lists for t in terms]
        rows = np.repeat(np.arange(len(term_lists), dtype=np.int64), [len(t) for t in term_lists])
        return rows, np.asarray(ids, dtype=np.int64)

    def _df(self, token: str) -> int:
        i = self._vocab.get(token)
        return self._base.document_frequencies([token])[token] + (int(self._shift[i]) if i is not None else 0)

    def document_frequencies(self, tokens: Iterable[str]) -> dict[str, int]:
        return {t: self._df(t) for t in tokens}

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        return {t: math.log((self.size + 1) / (self._df(t) + 0.5)) for t in tokens}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score for every key (tombstoned base rows score 0)."""
        out = np.zeros(self._keys, dtype=np.float32)
        n = self._base.size
        for token, count in Counter(tokenize(query)).items():
            df = self._df(token)
            if df <= 0:
                continue
            live = bm25_idf(df, self.size)
            column = self._base.term_scores(token)
            base_df = self._base.document_frequencies([token])[token]
            if column is not None and base_df > 0:
                out[:n] += np.float32(count * live / bm25_idf(base_df, n)) * column
            i = self._vocab.get(token)
            if i is not None and self._starts[i] < self._starts[i + 1]:
                a, b = self._starts[i], self._starts[i + 1]
                out[n + self._rows[a:b]] += np.float32(count * live) * self._tfc[a:b]
        out[self._tombstones] = 0
        return out
