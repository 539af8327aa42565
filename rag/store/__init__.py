"""The vector store seam: build from vectors, save to a directory, load, search by inner product.

Only FAISS lives here now; a distributed engine becomes a second module with the same three
methods, registered in ``BACKENDS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import ConfigError


class VectorStore(Protocol):
    """Inner-product search over row-numbered unit vectors."""

    dim: int

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of shape (n_queries, k), best first; id -1 pads short results."""
        ...

    def save(self, directory: Path) -> None: ...


def build_store(kind: str, vectors: np.ndarray) -> VectorStore:
    """A new store of ``kind`` ("flat" or "hnsw") holding ``vectors`` as rows 0..n-1."""
    from rag.store.faiss.vectors import FaissStore

    if kind not in ("flat", "hnsw"):
        raise ConfigError(f"unknown vector index {kind!r}; known: flat, hnsw")
    return FaissStore.build(vectors, kind)


def load_store(directory: Path) -> VectorStore:
    """The store saved in ``directory``."""
    from rag.store.faiss.vectors import FaissStore

    return FaissStore.load(directory)
