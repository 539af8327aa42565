"""FAISS vector store: exact inner product (``IndexFlatIP``) or HNSW for large corpora.

Query-time threads are pinned to one: measured here, after a search faiss's OpenMP workers keep
spinning and steal a core from the embedder (query embedding 9.5 ms → 16 ms on 2 cores), while a
single-query search gains nothing from more threads. Rankings are identical.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from rag.errors import IndexCorruptError
from rag.store.base import HNSW_EF_CONSTRUCTION, HNSW_M

FILENAME = "vectors.faiss"


class FaissStore:
    """A FAISS index with row ids equal to chunk rows in the chunk store."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        self.dim = int(index.d)
        self._params: faiss.SearchParameters | None = None

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat") -> FaissStore:
        dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[0] else 0
        dim = dim or (int(vectors.shape[1]) if vectors.ndim == 2 else 1)
        if kind == "hnsw":
            hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index: faiss.Index = hnsw
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, directory: Path) -> FaissStore:
        path = directory / FILENAME
        if not path.exists():
            raise IndexCorruptError(f"{path} is missing")
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as exc:
            raise IndexCorruptError(f"{path} is unreadable: {str(exc).splitlines()[0]}") from None

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def set_search_depth(self, ef: int) -> None:
        """HNSW's efSearch (faiss searches at least as deep as the k asked for); no effect on flat."""
        if isinstance(self._index, faiss.IndexHNSW):
            self._index.hnsw.efSearch = ef

    def exclude(self, ids: np.ndarray) -> None:
        """Leave these ids out of every search from now on (a delta segment's tombstones)."""
        if not len(ids):
            self._params = None
            return
        # The selectors are kept on self: faiss holds raw pointers to them.
        self._batch = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
        self._not = faiss.IDSelectorNot(self._batch)
        if isinstance(self._index, faiss.IndexHNSW):
            hnsw = faiss.SearchParametersHNSW  # type: ignore[attr-defined]  # missing from the stubs
            self._params = hnsw(sel=self._not, efSearch=self._index.hnsw.efSearch)
        else:
            self._params = faiss.SearchParameters(sel=self._not)  # type: ignore[call-arg]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        faiss.omp_set_num_threads(1)
        k = min(k, len(self))
        if k <= 0:
            n = len(queries)
            return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self._params is None:
            scores, ids = self._index.search(q, k)
        else:
            scores, ids = self._index.search(q, k, params=self._params)
        return scores, ids

    def view(self) -> FaissStore:
        """Another handle on the same index, with its own exclusions (the index is shared, not copied)."""
        return FaissStore(self._index)

    def save(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / FILENAME))
