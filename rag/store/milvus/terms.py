"""BM25 as sparse vectors: the service's own stemmed tokens, weighted so that a plain inner
product in Milvus gives the same score as ``rag.store.lexical`` (bm25s, Lucene variant).

score(q, d) = Σ_t idf(t) · tf / (tf + k1·(1 - b + b·|d|/avgdl)). The document side (the fraction)
is stored per chunk at write time with the corpus's average length then; the query side is
idf(t) times the token's count in the query, from document frequencies kept in the store and
updated on every insert and delete. Built in one write, scores equal bm25s's; after later writes
the stored side uses the average length at its write, which drifts slowly (docs/store.md).

Tokens become sparse dimensions by a 32-bit hash (Milvus takes ids up to 2**32 - 2): about one
collision at 100k distinct terms, which merges two rare terms' counts.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable

from rag.text.terms import tokenize

K1, B = 1.5, 0.75  # bm25s's defaults, so both stores rank alike
EMPTY = "\u2205"  # stands in for a text with no content tokens, as in rag.store.lexical
_DIMS = 2**32 - 1


def term_id(token: str) -> int:
    """The sparse dimension of a stemmed token."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big") % _DIMS


def doc_terms(text: str) -> tuple[Counter[int], int]:
    """(term frequencies by dimension, length in tokens) of a chunk's text."""
    tokens = tokenize(text) or [EMPTY]
    return Counter(term_id(t) for t in tokens), len(tokens)


def doc_vector(tf: Counter[int], length: int, avgdl: float) -> dict[int, float]:
    """The stored, document side of BM25."""
    norm = K1 * (1 - B + B * length / max(avgdl, 1e-9))
    return {t: f / (f + norm) for t, f in tf.items()}


def idf_bm25(df: int, n: int) -> float:
    """Lucene's BM25 idf, as bm25s computes it."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def idf_answer(df: int, n: int) -> float:
    """The idf that answers weigh question words with (``LexicalIndex.idf``)."""
    return math.log((n + 1) / (df + 0.5))


def query_counts(tokens: Iterable[str]) -> Counter[int]:
    """How often each dimension occurs in a query (bm25s scores a repeated token again)."""
    return Counter(term_id(t) for t in tokens)
