"""Passage vectors of the benchmark corpora kept by content, so an index rebuild embeds only new text.

An eval index is rebuilt whenever the code that decides its content changes (the fingerprint in
``rag.evals.corpus``): a change to the store, the chunker or the loaders. Most of those changes
leave most texts as they were, and a passage's vector depends on nothing but its text and the
embedder. So the vectors of every passage (chunk and sentence) embedded for an eval index are kept
in one SQLite file per embedder identity, keyed by the SHA-256 of the text, and a rebuild looks
them up before embedding: a store-only change re-embeds nothing (the benchmark corpora cost about
seven minutes of embedding on two cores).

Safe only where the vector is a pure function of the text: an embedder opts in with a
``vector_identity()`` method naming the model and its version (``e5-small`` and ``hashing`` do).
Any other (a sentence-transformers model at a local path can change under the same name) passes
through uncached. Queries are never cached here: the eval reports their embedding latency.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embed import Embedder

log = logging.getLogger(__name__)
STALE_DAYS = 14.0  # files of other embedder versions unused this long are removed


def identity(embedder: Embedder) -> str | None:
    """What names the embedder's vectors exactly (model and version), or None when nothing does."""
    method = getattr(embedder, "vector_identity", None)
    return str(method()) if callable(method) else None


class StoredVectors:
    """An ``Embedder`` whose passage vectors come from ``path`` when that text was embedded before."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.path = path
        self.hits = 0  # passages found, and passages embedded (for tests and logs)
        self.misses = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # one connection, used by whichever thread embeds
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.commit()

    def __getattr__(self, name: str) -> Any:
        # count_tokens, max_tokens, vector_identity: whatever else the wrapped backend offers.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        rows = []
        with self._lock:
            for i in range(0, len(unique), 500):
                part = unique[i : i + 500]
                rows += self._db.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
        for key, blob in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if len(v) == self.dim:
                found[key] = v
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            vecs = np.asarray(self.inner.embed_passages(list(todo.values())), dtype=np.float32)
            fresh = dict(zip(todo, vecs, strict=True))
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                    [(k, v.tobytes()) for k, v in fresh.items()],
                )
                self._db.commit()
            found.update(fresh)
        self.hits += len(texts) - sum(1 for k in keys if k in todo)
        self.misses += sum(1 for k in keys if k in todo)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        with self._lock:
            self._db.close()


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
        _open[key] = StoredVectors(embedder, path)
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
