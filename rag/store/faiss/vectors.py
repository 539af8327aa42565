"""FAISS vector store: exact inner product (``IndexFlatIP``), HNSW, or an inverted file for large corpora.

The inverted file (``ivf``): k-means lists over the vectors, each vector also kept as product-
quantized codes of 4 bits for every two dimensions, which SIMD "fast scan" scores in bulk; a
search scans a share of the lists nearest the query by those codes and re-scores the best
``IVF_REFINE`` times as many as asked for exactly, against the full vectors kept beside them. On
the clustered synthetic vectors of the scale benchmark it finds far more of the exact neighbours
than HNSW at equal latency (bench/results/clustered/ivf_sweep.md).

Query-time threads are pinned to one: measured here, after a search faiss's OpenMP workers keep
spinning and steal a core from the embedder (query embedding 9.5 ms → 16 ms on 2 cores), while a
single-query search gains nothing from more threads. Rankings are identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.config import Settings
from rag.store.base import HNSW_EF_CONSTRUCTION, HNSW_FULL_LEVEL0, HNSW_M
from rag.store.faiss.snapshot import corrupt

FILENAME = "vectors.faiss"

# The inverted file (`RAG_VECTOR_INDEX=ivf`, FAISS only): below IVF_MIN_ROWS
# vectors it is an exact scan (as fast at that size); every list's centre is trained on at least
# IVF_TRAIN_PER_LIST vectors; a search re-scores IVF_REFINE times the candidates it asks for exactly,
# and scans IVF_SEARCH_SHARE of the lists unless `RAG_IVF_SEARCH_SHARE` says otherwise. Measured on
# clustered synthetic vectors (bench/results/clustered/ivf_sweep.md).
IVF_MIN_ROWS = 1_000
IVF_TRAIN_PER_LIST = 39
IVF_REFINE = 10
IVF_SEARCH_SHARE = Settings.ivf_search_share  # the setting's default, for stores built without one
# `RAG_VECTOR_INDEX=auto` (the default) builds a FAISS base of this many vectors or more as an
# HNSW graph, a smaller one flat: at 100k chunks an exact search takes 12 ms (15 ms hybrid), at 1M
# 128 ms (181 ms hybrid), where the graph takes 4.2 ms at recall@10 0.95 on the synthetic vectors
# (efSearch 384) and finds all ten on real e5-small ones; the inverted file finds 0.99 of the
# synthetic but 0.97 of the real in 15 ms, and builds in 548 s instead of about 1,350
# (bench/results/clustered/scale.md, docs/store.md). Milvus builds flat.
AUTO_APPROXIMATE_ROWS = 200_000


def resolved_index(kind: str, rows: int) -> str:
    """The index kind ``kind`` builds for a FAISS base of ``rows`` vectors ("auto" decides by size)."""
    if kind == "auto":
        return "hnsw" if rows >= AUTO_APPROXIMATE_ROWS else "flat"
    return kind


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: the power of two nearest 4 sqrt(n), with at least
    ``IVF_TRAIN_PER_LIST`` vectors to train each list's centre (1,024 at 100k, 4,096 at 1M)."""
    lists = 2 ** round(np.log2(max(4 * np.sqrt(max(n, 1)), 1)))
    while lists > 1 and lists * IVF_TRAIN_PER_LIST > n:
        lists //= 2
    return int(lists)


def _ivf(vectors: np.ndarray) -> faiss.Index:
    """An inverted file with fast-scan 4-bit codes and exact re-scoring, trained on ``vectors``."""
    n, dim = vectors.shape
    lists = ivf_lists(n)
    codes = dim // 2 if dim % 2 == 0 else dim  # two dimensions per 4-bit code
    ivf = faiss.index_factory(dim, f"IVF{lists},PQ{codes}x4fs", faiss.METRIC_INNER_PRODUCT)
    index = faiss.IndexRefineFlat(ivf)
    rng = np.random.default_rng(0)  # a fixed sample: the same vectors build the same index
    sample = vectors if n <= lists * 64 else vectors[np.sort(rng.choice(n, lists * 64, replace=False))]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def hnsw_graph(
    vectors: np.ndarray,
    dim: int,
    m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    full_level0: bool = HNSW_FULL_LEVEL0,
    shuffle: bool = True,
) -> faiss.IndexHNSWFlat:
    """An HNSW graph over ``vectors`` (float32), its rows in the order given: with full level-0 lists
    (``HNSW_FULL_LEVEL0``), and the vectors inserted in a fixed random order, the graph renumbered
    after. Chunks arrive document by document, topic by topic, and a graph grown one topic at a
    time links topics less well (recall@10 at 100k, efSearch 32 / 64: 0.944 / 0.976 in document
    order, 0.954 / 0.989 shuffled; bench/results/clustered/hnsw_sweep.md). The arguments are the
    store's choices; ``bench.hnsw_sweep`` varies them."""
    hnsw = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = ef_construction
    hnsw.keep_max_size_level0 = full_level0  # type: ignore[attr-defined]  # missing from the stubs
    if len(vectors) and shuffle:
        order = np.random.default_rng(0).permutation(len(vectors))
        hnsw.add(vectors[order])
        hnsw.permute_entries(np.argsort(order))  # row i is vectors[i] again
    elif len(vectors):
        hnsw.add(vectors)
    return hnsw


class FaissStore:
    """A FAISS index with row ids equal to chunk rows in the chunk store."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        self.dim = int(index.d)
        self._sel: faiss.IDSelector | None = None
        self._ivf_share = IVF_SEARCH_SHARE
        self._params = self._search_params()

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat") -> FaissStore:
        dim = int(vectors.shape[1]) if vectors.ndim == 2 and vectors.shape[0] else 0
        dim = dim or (int(vectors.shape[1]) if vectors.ndim == 2 else 1)
        kind = resolved_index(kind, len(vectors))
        if kind == "ivf" and len(vectors) >= IVF_MIN_ROWS:
            index: faiss.Index = _ivf(vectors)
        elif kind == "hnsw":
            return cls(hnsw_graph(np.ascontiguousarray(vectors, dtype=np.float32), dim))
        else:  # also ivf below IVF_MIN_ROWS: an exact scan of so few is as fast
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, directory: Path, mmap: bool = False) -> FaissStore:
        """The index saved in ``directory``; with ``mmap``, flat vectors are mapped, not read (to
        check a file cheaply: 0.1 ms for 1M vectors, where reading them takes a second)."""
        path = directory / FILENAME
        if not path.exists():
            raise corrupt(path, "is missing")
        try:
            return cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mmap else 0))
        except RuntimeError as exc:  # its text is a C++ signature and a source path of faiss
            raise corrupt(path, "is damaged or cut short", exc) from None

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def set_search_depth(self, ef: int, ivf_share: float = IVF_SEARCH_SHARE) -> None:
        """HNSW's efSearch (faiss searches at least as deep as the k asked for), or the share of an
        inverted file's lists a search scans; no effect on flat."""
        if isinstance(self._index, faiss.IndexHNSW):
            self._index.hnsw.efSearch = ef
        self._ivf_share = ivf_share
        self._params = self._search_params()

    @property
    def kind(self) -> str:
        if isinstance(self._index, faiss.IndexHNSW):
            return "hnsw"
        return "ivf" if isinstance(self._index, faiss.IndexRefine) else "flat"

    def exclude(self, ids: np.ndarray) -> None:
        """Leave these ids out of every search from now on (a delta segment's tombstones)."""
        if not len(ids):
            self._sel = None
        else:
            # The selectors are kept on self: faiss holds raw pointers to them.
            self._batch = faiss.IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))
            self._sel = faiss.IDSelectorNot(self._batch)
        self._params = self._search_params()

    def _search_params(self) -> faiss.SearchParameters | None:
        """The parameters every search passes: exclusions, and an inverted file's depth."""
        sel = self._sel
        if isinstance(self._index, faiss.IndexRefine):
            lists = int(faiss.extract_index_ivf(self._index.base_index).nlist)
            probe = max(1, min(lists, round(lists * self._ivf_share)))
            # Kept on self: the refine parameters hold a raw pointer to the inverted file's.
            self._ivf_params = faiss.IVFSearchParameters(nprobe=probe, sel=sel)  # type: ignore[call-arg]
            refine: Any = faiss.IndexRefineSearchParameters  # its keywords are missing from the stubs
            return refine(k_factor=IVF_REFINE, base_index_params=self._ivf_params)  # type: ignore[no-any-return]
        if sel is None:
            return None
        if isinstance(self._index, faiss.IndexHNSW):
            hnsw = faiss.SearchParametersHNSW  # type: ignore[attr-defined]  # missing from the stubs
            return hnsw(sel=sel, efSearch=self._index.hnsw.efSearch)
        return faiss.SearchParameters(sel=sel)  # type: ignore[call-arg]

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
        other = FaissStore(self._index)
        other._ivf_share = self._ivf_share
        other._params = other._search_params()
        return other

    def save(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / FILENAME))
