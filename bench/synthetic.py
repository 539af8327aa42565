"""A synthetic corpus of any size for the scale benchmark, regenerated identically from a seed.

Vectors come in one stream per corpus, so the exact nearest neighbours can be recomputed later by
streaming the same blocks again instead of keeping a million vectors around. Two kinds:

- ``clustered`` (default): shaped like real e5-small vectors (``bench/vectors.json``, fitted by
  ``bench.fit_vectors`` on the eval corpora's chunk and sentence vectors): a common mean direction
  and a Gaussian with the real principal-component variances, in topics of ``TOPIC`` consecutive
  chunks that share a centre (``WITHIN`` of the variance is within a topic). Checked on 5,131
  vectors against the real ones (``bench.fit_vectors.neighbour_stats``): mean pairwise cosine
  0.748 / 0.745, norm of the mean 0.864 / 0.863, nearest neighbour 0.914 / 0.918, tenth 0.842 /
  0.842. Queries are new points of random topics. How this extrapolates to a million chunks of
  real text is an assumption, not a measurement.
- ``uniform``: uniform random unit vectors: no structure at all and near-ties among a query's
  neighbours, the worst case for approximate search (HNSW recall@10 0.14 at 100k).

Texts are 60-120 words drawn from a Zipf-weighted vocabulary: the seed article's Russian words by
frequency first, then generated Russian-like words up to ``VOCAB`` entries, so BM25 posting lists
have a realistic long tail (a vocabulary of a few thousand words would make every term appear in a
large share of the chunks and the lexical index unrealistically dense).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from itertools import chain
from pathlib import Path

import numpy as np

from rag.store import DocumentRows
from rag.types import Chunk

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "bench" / "vectors.json"  # written by bench.fit_vectors
PER_DOC = 50  # chunks per synthetic document
TOPIC = 10  # consecutive chunks around one centre (clustered vectors)
WITHIN = 0.4  # share of the variance within a topic: with TOPIC, matches real neighbour cosines
VOCAB = 30_000
WORDS_PER_CHUNK = (60, 120)
SENTENCE_WORDS = 12
_CONSONANTS = list("бвгдзклмнпрстфхцчшж")
_VOWELS = list("аеиоуыя")
_ENDINGS = ["", "а", "ы", "ов", "ами", "ой", "ий", "ого", "ение", "ать", "ость", "ский", "ная"]


@cache
def vocabulary() -> tuple[list[str], np.ndarray]:
    """Words by rank and their cumulative Zipf-Mandelbrot probabilities (1 / (rank + 2.7))."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    words = [w for w, _ in Counter(re.findall(r"[а-яё]+", text.lower())).most_common()]
    seen = set(words)
    rng = np.random.default_rng(12345)
    while len(words) < VOCAB:
        c, v = rng.integers(len(_CONSONANTS), size=4), rng.integers(len(_VOWELS), size=4)
        stem = "".join(_CONSONANTS[c[j]] + _VOWELS[v[j]] for j in range(int(rng.integers(2, 5))))
        word = stem + _ENDINGS[int(rng.integers(len(_ENDINGS)))]
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = 1.0 / (np.arange(VOCAB) + 2.7)
    return words[:VOCAB], np.cumsum(weights / weights.sum())


def _words(rng: np.random.Generator, n: int) -> list[str]:
    words, cdf = vocabulary()
    idx = np.minimum(np.searchsorted(cdf, rng.random(n)), len(words) - 1)
    return [words[i] for i in idx.tolist()]


def _text(rng: np.random.Generator, n_words: int) -> str:
    words = _words(rng, n_words)
    for j in range(SENTENCE_WORDS - 1, n_words, SENTENCE_WORDS):
        words[j] += "."
    return " ".join(words).capitalize() + "."


@cache
def _model(dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard deviations along the principal axes, the rotation placing them, and the mean vector."""
    fitted = json.loads(VECTORS.read_text(encoding="utf-8"))
    if int(fitted["dim"]) != dim:
        raise ValueError(f"{VECTORS} was fitted to {fitted['dim']}-dimensional vectors, not {dim}")
    sd = np.sqrt(np.asarray(fitted["variances"], dtype=np.float64))
    rotation, _ = np.linalg.qr(np.random.default_rng(777).standard_normal((dim, dim)))
    return sd, rotation, rotation[:, 0] * float(fitted["mean_norm"])


def _centres(topics: np.ndarray, dim: int, seed: int) -> np.ndarray:
    sd, _, _ = _model(dim)
    scale = sd * np.sqrt(1 - WITHIN)
    return np.stack([np.random.default_rng([seed, 6, int(t)]).standard_normal(dim) * scale for t in topics])


def _clustered(rng: np.random.Generator, topics: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around the centres of ``topics`` (one per row)."""
    sd, rotation, mean = _model(dim)
    unique, inverse = np.unique(topics, return_inverse=True)
    z = _centres(unique, dim, seed)[inverse] + rng.standard_normal((len(topics), dim)) * (sd * np.sqrt(WITHIN))
    x = mean + z @ rotation.T
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _vector_blocks(n: int, dim: int, seed: int, kind: str = "clustered") -> Iterator[np.ndarray]:
    """Unit vectors of the corpus, one block per document, always the same for (n, dim, seed, kind)."""
    rng = np.random.default_rng([seed, 1])
    for d in range(0, n, PER_DOC):
        rows = min(PER_DOC, n - d)
        if kind == "clustered":
            yield _clustered(rng, np.arange(d, d + rows) // TOPIC, dim, seed)
        else:
            v = rng.standard_normal((rows, dim), dtype=np.float32)
            yield v / np.linalg.norm(v, axis=1, keepdims=True)


def documents(
    n: int, dim: int, seed: int = 0, prefix: str = "synthetic", kind: str = "clustered"
) -> list[DocumentRows]:
    """``n`` chunks in documents of ``PER_DOC``, ready for ``Store.write`` (no embedding needed)."""
    rng = np.random.default_rng([seed, 2])
    docs = []
    for d, vecs in zip(range(0, n, PER_DOC), _vector_blocks(n, dim, seed, kind), strict=True):
        doc_id = f"{prefix}/{d // PER_DOC}.txt"
        chunks, offset = [], 0
        for i, n_words in enumerate(rng.integers(*WORDS_PER_CHUNK, size=len(vecs), endpoint=True).tolist()):
            text = _text(rng, n_words)
            chunks.append(Chunk(f"{doc_id}#{i}", doc_id, doc_id, doc_id, text, offset, offset + len(text), i))
            offset += len(text) + 2
        meta = {"hash": doc_id, "source": doc_id, "title": doc_id, "chunks": len(chunks), "chars": offset}
        docs.append(DocumentRows(doc_id, meta, chunks, vecs))
    return docs


def position(chunk_id: str) -> int:
    """The row of a synthetic chunk in generation order, from its id ("synthetic/7.txt#3" -> 353)."""
    doc, ordinal = chunk_id.removeprefix("synthetic/").split(".txt#")
    return int(doc) * PER_DOC + int(ordinal)


def queries(n: int, dim: int, seed: int = 0, corpus: int = 0, kind: str = "clustered") -> np.ndarray:
    """``n`` random unit query vectors (clustered: new points of random topics of a ``corpus``-chunk corpus)."""
    rng = np.random.default_rng([seed, 3])
    if kind == "clustered":
        return _clustered(rng, rng.integers(0, max(1, -(-corpus // TOPIC)), size=n), dim, seed)
    q = rng.standard_normal((n, dim), dtype=np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def query_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct questions of 3-6 content words (ranks 50-5,000: neither function words nor hapaxes)."""
    words, _ = vocabulary()
    rng = np.random.default_rng([seed, 4])
    return [
        " ".join(words[i] for i in rng.integers(50, 5000, size=int(rng.integers(3, 7)))) + f" {j}?" for j in range(n)
    ]


def upload_text(seed: int = 0, paragraphs: int = 4) -> str:
    """A small document of a few chunks: paragraphs of about 80 words."""
    rng = np.random.default_rng([seed, 5])
    return "\n\n".join(_text(rng, 80) for _ in range(paragraphs))


def exact_top(
    n: int, dim: int, seed: int, q: np.ndarray, k: int, rows: int = 20_000, kind: str = "clustered"
) -> np.ndarray:
    """Positions of the ``k`` corpus vectors with the largest inner product with each query, best
    first, by brute force over the regenerated corpus (``rows`` vectors in memory at a time)."""
    best_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), k), dtype=np.int64)
    start, pending = 0, []
    for block in chain(_vector_blocks(n, dim, seed, kind), [None]):
        if block is not None:
            pending.append(block)
            if sum(len(b) for b in pending) < rows:
                continue
        if not pending:
            break
        v = np.concatenate(pending)
        s = np.concatenate([best_s, q @ v.T], axis=1)
        i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + len(v)), (len(q), len(v)))], axis=1)
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)
        start, pending = start + len(v), []
    order = np.argsort(-best_s, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, 1)
