"""The FAISS HNSW graph (``RAG_VECTOR_INDEX=hnsw``) keeps full level-0 neighbour lists.

HNSW's neighbour heuristic drops a candidate whenever a link already kept is closer to it than the
node is. In a clump of similar chunks one clump mate "covers" nearly every other candidate, so the
lists come out nearly empty and searches rarely find their way into a clump (bench/results/
clustered/hnsw_sweep.md). The store fills the lists' free slots with the nearest candidates passed over.
"""

from __future__ import annotations

import faiss
import numpy as np

from bench.hnsw_sweep import level0_links
from rag.store.base import HNSW_M
from rag.store.faiss.vectors import FaissStore
from tests.store.test_store_faiss_ivf import _clumps, _exact, _recall


def test_every_node_keeps_a_full_level0_list() -> None:
    v = _clumps(3000)
    store = FaissStore.build(v, "hnsw")
    index = store._index
    assert isinstance(index, faiss.IndexHNSW)
    degrees = level0_links(index)
    assert int(index.hnsw.nb_neighbors(0)) == 2 * HNSW_M
    assert np.median(degrees) == 2 * HNSW_M and np.mean(degrees == 2 * HNSW_M) > 0.99
    # faiss's own default for comparison: the heuristic alone leaves most slots empty here
    pruned = faiss.IndexHNSWFlat(v.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    pruned.add(v)
    assert np.median(level0_links(pruned)) < HNSW_M


def test_rows_keep_their_order_though_inserted_shuffled() -> None:
    v = _clumps(2000)
    store = FaissStore.build(v, "hnsw")
    assert np.array_equal(store._index.reconstruct_n(0, len(v)), v)
    scores, ids = store.search(v[[7, 1234]], 1)
    assert ids[:, 0].tolist() == [7, 1234] and np.allclose(scores[:, 0], 1, atol=1e-5)


def test_full_lists_find_the_clumps() -> None:
    v = _clumps(3000)
    rng = np.random.default_rng(5)
    q = v[rng.integers(0, len(v), 100)] + 0.2 * rng.standard_normal((100, v.shape[1])).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    store = FaissStore.build(v, "hnsw")
    store.set_search_depth(16)
    found = store.search(q, 10)[1]
    assert _recall(found, _exact(v, q, 10)) >= 0.99
