"""Passage vectors of the benchmark corpora kept by content, so an index rebuild embeds only new text.

An eval index is rebuilt whenever the code that decides its content changes (the fingerprint in
``rag.evals.corpus``): a change to the store, the chunker or the loaders. Most of those changes
leave most texts as they were, and a passage's vector depends on nothing but its text and the
embedder. So the vectors of every passage (chunk and sentence) embedded for an eval index are kept
in one SQLite file per embedder identity (the store ingest uses to resume, ``rag.embed.resume``,
kept for good), keyed by the SHA-256 of the text, and a rebuild looks
them up before embedding: a store-only change re-embeds nothing (the benchmark corpora cost about
seven minutes of embedding on two cores).

Safe only where the vector is a pure function of the text: an embedder opts in with a
``vector_identity()`` method naming the model and its version (``e5-small`` and ``hashing`` do).
Any other (a sentence-transformers model at a local path can change under the same name) passes
through uncached. Queries are never cached here: the eval reports their embedding latency.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed import Embedder
from rag.embed.resume import ResumeCache

log = logging.getLogger(__name__)
STALE_DAYS = 14.0  # files of other embedder versions unused this long are removed


def identity(embedder: Embedder) -> str | None:
    """What names the embedder's vectors exactly (model and version), or None when nothing does."""
    method = getattr(embedder, "vector_identity", None)
    return str(method()) if callable(method) else None


class StoredVectors:
    """An ``Embedder`` whose passage vectors come from ``store`` when that text was embedded before."""

    def __init__(self, inner: Embedder, store: ResumeCache) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.store = store
        self.hits = 0  # passages found, and passages embedded (for tests and logs)
        self.misses = 0

    def __getattr__(self, name: str) -> Any:
        # count_tokens, max_tokens, vector_identity: whatever else the wrapped backend offers.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}  # each text not stored yet, and its rows
        for i, (text, vec) in enumerate(zip(texts, self.store.get(texts), strict=True)):
            if vec is None:
                todo.setdefault(text, []).append(i)
            else:
                out[i] = vec
        if todo:
            fresh = np.asarray(self.inner.embed_passages(list(todo)), dtype=np.float32)
            self.store.put(list(todo), fresh)
            for rows, vec in zip(todo.values(), fresh, strict=True):
                out[rows] = vec
        missed = sum(len(rows) for rows in todo.values())
        self.hits += len(texts) - missed
        self.misses += missed
        return out

    def close(self) -> None:
        self.store.close()


def stored_vectors(embedder: Embedder, cache_root: Path) -> Embedder:
    """``embedder`` with its passage vectors kept under ``cache_root/vectors`` when that is safe."""
    ident = identity(embedder)
    if ident is None:
        return embedder
    slug = re.sub(r"[^\w.-]+", "_", ident)
    path = cache_root / "vectors" / f"{slug}.sqlite"
    key = (id(embedder), path)
    if key not in _open:  # one connection per embedder and file for the process
        _prune(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _open[key] = StoredVectors(embedder, ResumeCache(path.parent, ident, embedder.dim, filename=path.name))
    return _open[key]


_open: dict[tuple[int, Path], StoredVectors] = {}


def _prune(keep: Path) -> None:
    """Remove the vector files of other embedder versions unused for ``STALE_DAYS``."""
    if not keep.parent.is_dir():
        return
    cutoff = time.time() - STALE_DAYS * 86400
    for other in keep.parent.glob("*.sqlite"):
        if other != keep and other.stat().st_mtime < cutoff:
            for p in (other, other.with_name(other.name + "-wal"), other.with_name(other.name + "-shm")):
                p.unlink(missing_ok=True)
            log.info("removed stale vector cache %s", other.name)
