"""The store seam: what ingest writes and what search reads, whatever engine keeps the index.

A ``Store`` is opened once per process from settings (``rag.store.open_store``). Ingest reads its
``IndexInfo`` (embedder, chunking, one record with a content hash per document), then hands it one
``Change``: documents to add or replace, with their chunks, vectors and sentence vectors, and
documents to drop. Search asks the store for a ``Reader``: one consistent view that answers dense
and lexical candidate queries and fetches chunks and sentence vectors by key. Keys are int64 chunk
ids of the store's choosing (FAISS: row numbers; Milvus: primary keys); search orders ties by key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from rag.types import Chunk

# The HNSW graph both stores build (`RAG_VECTOR_INDEX=hnsw`): neighbours per node and build depth.
# Measured on clustered synthetic vectors (bench/results/clustered/hnsw_sweep.md): M=32 with
# efConstruction 80 lost neighbours no search depth found again (recall@10 0.66 at 100k, 0.61 at 1M
# even at efSearch 2048); M=64 with efConstruction 200 and full level-0 lists (below) finds 0.99 at
# 100k with efSearch 64 and 0.95 at 1M with efSearch 384 in about 4 ms.
HNSW_M = 64
HNSW_EF_CONSTRUCTION = 200
# FAISS only: after HNSW's neighbour heuristic has chosen a node's level-0 links, fill the list's
# remaining slots with the nearest candidates it passed over. Without it, in clumps of similar
# chunks the heuristic keeps a median 4 of 64 links (a clump mate "covers" every other candidate),
# and a search rarely reaches the clump: recall@10 0.77 -> 0.94 at 100k (M=32, efSearch 256), and
# at 1M (M=64) 0.79 in 10.8 ms before, 0.95 in 4 ms after.
HNSW_FULL_LEVEL0 = True

# Per chunk: sentence spans into the chunk text and their unit vectors (n_sentences x dim).
Sentences = tuple[tuple[tuple[int, int], ...], np.ndarray]


@dataclass(frozen=True)
class IndexInfo:
    """What an index was built with, and its documents (the manifest)."""

    version: str  # changes with every write: readers reopen when it moves
    embedder: str
    dim: int
    chunking: dict[str, Any]
    documents: dict[str, dict[str, Any]]  # doc_id -> {hash, source, title, chunks, chars[, path]}
    chunks: int = 0
    document_count: int = 0  # all documents, also when ``documents`` holds only the ones asked for


@dataclass(frozen=True)
class DocumentRows:
    """One document as ingest hands it to a store: its record and its chunks with vectors."""

    doc_id: str
    meta: dict[str, Any]
    chunks: Sequence[Chunk]
    vectors: np.ndarray  # len(chunks) x dim
    sentences: Sequence[Sentences | None] = ()  # parallel to chunks when sentence vectors are stored


@dataclass(frozen=True)
class Change:
    """One write: replace ``add`` (by doc_id), drop ``remove``; ``reset`` starts from empty."""

    embedder: str
    dim: int
    chunking: dict[str, Any]
    vector_index: str
    add: Sequence[DocumentRows] = ()
    remove: frozenset[str] = field(default_factory=frozenset)
    reset: bool = False


class Reader(Protocol):
    """One consistent view of an index for search."""

    info: IndexInfo

    def __len__(self) -> int: ...

    def dense(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys, inner-product scores) of the ``k`` nearest chunks, best first."""
        ...

    def lexical(self, query: str, k: int, also: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """(keys, BM25 scores) of the ``k`` best chunks with a positive score, best first, then the
        exact scores of the chunks in ``also`` that are not among them (fusion needs both)."""
        ...

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        """Inverse document frequency of each stemmed token over the whole corpus."""
        ...

    def document_frequencies(self, tokens: Iterable[str]) -> dict[str, int]:
        """How many chunks hold each stemmed token (0: the corpus never uses it)."""
        ...

    def chunks(self, keys: Sequence[int]) -> list[Chunk]:
        """The chunks with these keys, in the same order."""
        ...

    def sentences(self, keys: Sequence[int]) -> list[Sentences | None]:
        """Stored sentence spans and vectors of these chunks (None where none were stored)."""
        ...

    def all_chunks(self) -> Iterator[Chunk]:
        """Every chunk (for evals and small corpora: this reads the whole index)."""
        ...


class Store(Protocol):
    """An index an ingest writes to and search reads from."""

    name: str
    location: str  # where the index lives, for messages

    def info(self, doc_ids: Collection[str] | None = None) -> IndexInfo | None:
        """The manifest, or None when nothing was ever written. With ``doc_ids``, ``documents``
        need hold only those (a store may return more): an upload need not read every record."""
        ...

    def version(self) -> str | None:
        """The current version token, cheaply (polled to notice writes by other processes)."""
        ...

    def writing(self) -> Any:
        """A context manager that serialises writers on this index."""
        ...

    def write(self, change: Change) -> IndexInfo:
        """Apply ``change`` so that the last good state stays searchable if it fails midway;
        returns the new manifest (``documents`` may hold only the changed ones)."""
        ...

    def reader(self) -> Reader:
        """A reader over the current version (IndexMissingError when there is no index)."""
        ...

    def close(self) -> None: ...
