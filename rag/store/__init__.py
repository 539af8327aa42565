"""The vector store seam: build from vectors, save to a directory, load, search by inner product.

Only FAISS lives here now; a distributed engine becomes a second backend with the same ``build``
and ``load`` class methods, registered by name in ``BACKENDS`` (the registry style of embedders
and generators).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import VECTOR_INDEXES
from rag.errors import ConfigError
from rag.registry import Registry


class VectorStore(Protocol):
    """Inner-product search over row-numbered unit vectors."""

    dim: int

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, row ids) of shape (n_queries, k), best first; id -1 pads short results."""
        ...

    def save(self, directory: Path) -> None: ...


class StoreBackend(Protocol):
    """What a backend registers: how to build a store from vectors and how to load a saved one."""

    def build(self, vectors: np.ndarray, kind: str) -> VectorStore: ...

    def load(self, directory: Path) -> VectorStore: ...


BACKENDS: Registry[StoreBackend] = Registry(
    "vector store", "the store backend", {"faiss": "rag.store.faiss.vectors:FaissStore"}
)
DEFAULT_BACKEND = "faiss"


def build_store(kind: str, vectors: np.ndarray, backend: str = DEFAULT_BACKEND) -> VectorStore:
    """A new store of ``kind`` (one of ``VECTOR_INDEXES``) holding ``vectors`` as rows 0..n-1."""
    if kind not in VECTOR_INDEXES:
        raise ConfigError(f"unknown vector index {kind!r}; known: {', '.join(VECTOR_INDEXES)}")
    return BACKENDS.get(backend).build(vectors, kind)


def load_store(directory: Path, backend: str = DEFAULT_BACKEND) -> VectorStore:
    """The store saved in ``directory``."""
    return BACKENDS.get(backend).load(directory)
