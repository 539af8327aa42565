"""Where the index lives: a registry of store backends by name (``RAG_STORE``).

- ``faiss`` (default): crash-safe snapshots under ``RAG_INDEX_DIR``, loaded whole into each
  serving process (``rag.store.faiss``).
- ``milvus``: collections in Milvus, a local Milvus Lite directory or a server/cluster at
  ``RAG_MILVUS_URI``; serving processes keep no index state of their own (``rag.store.milvus``).

The interface both implement is in ``rag.store.base``.
"""

from __future__ import annotations

from collections.abc import Callable

from rag.config import Settings
from rag.registry import Registry
from rag.store.base import Change, DocumentRows, IndexInfo, Reader, Sentences, Store

# Imported on first use, so FAISS users never load the Milvus client.
BACKENDS: Registry[Callable[[Settings], Store]] = Registry(
    "store",
    "RAG_STORE or --store",
    {"faiss": "rag.store.faiss.backend:FaissBackend", "milvus": "rag.store.milvus.backend:MilvusBackend"},
)


def store_class(name: str) -> Callable[[Settings], Store]:
    """The backend class registered as ``name``; ConfigError listing the known names otherwise."""
    return BACKENDS.get(name)


def open_store(settings: Settings) -> Store:
    """The store ``settings.store`` names, connected (close it when done)."""
    return store_class(settings.store)(settings)


__all__ = ["BACKENDS", "Change", "DocumentRows", "IndexInfo", "Reader", "Sentences", "Store", "open_store"]
