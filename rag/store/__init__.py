"""Where the index lives: a registry of store backends by name (``RAG_STORE``).

- ``faiss`` (default): crash-safe snapshots under ``RAG_INDEX_DIR``, loaded whole into each
  serving process (``rag.store.faiss``).
- ``milvus``: collections in Milvus, a local Milvus Lite directory or a server/cluster at
  ``RAG_MILVUS_URI``; serving processes keep no index state of their own (``rag.store.milvus``).

The interface both implement is in ``rag.store.base``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from rag.config import Settings
from rag.errors import ConfigError
from rag.store.base import Change, DocumentRows, IndexInfo, Reader, Sentences, Store

# name -> "module:class"; imported on first use so FAISS users never load the Milvus client.
BACKENDS: dict[str, str] = {
    "faiss": "rag.store.faiss.backend:FaissBackend",
    "milvus": "rag.store.milvus.backend:MilvusBackend",
}


def store_class(name: str) -> Callable[[Settings], Store]:
    """The backend class registered as ``name``; ConfigError listing the known names otherwise."""
    target = BACKENDS.get(name)
    if target is None:
        raise ConfigError(f"unknown store {name!r}; known: {', '.join(sorted(BACKENDS))} (set RAG_STORE or --store)")
    module, cls = target.split(":")
    factory: Callable[[Settings], Store] = getattr(importlib.import_module(module), cls)
    return factory


def open_store(settings: Settings) -> Store:
    """The store ``settings.store`` names, connected (close it when done)."""
    return store_class(settings.store)(settings)


__all__ = ["BACKENDS", "Change", "DocumentRows", "IndexInfo", "Reader", "Sentences", "Store", "open_store"]
