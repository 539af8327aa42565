"""The FAISS inverted file (``RAG_VECTOR_INDEX=ivf``): lists of 4-bit codes, re-scored exactly.

Vectors here lie in clumps of ten around random centres, as chunks of one topic do, so the exact
nearest neighbours are well defined and an approximate index can be held to a recall.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import load_settings
from rag.errors import ConfigError
from rag.store import Change, DocumentRows
from rag.store.faiss.backend import FaissBackend
from rag.store.faiss.vectors import FaissStore, ivf_lists
from rag.types import Chunk
from tests.conftest import make_settings

DIM = 32


def _clumps(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 10 + 1, DIM))
    v = np.repeat(centres, 10, axis=0)[:n] + 0.35 * rng.standard_normal((n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _exact(v: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(q @ v.T), axis=1, kind="stable")[:, :k]


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(e.tolist())) / len(e) for f, e in zip(found, exact, strict=True)]))


def test_list_count_grows_with_the_corpus_and_every_list_gets_training_vectors() -> None:
    assert [ivf_lists(n) for n in (1_000, 5_000, 100_000, 1_000_000)] == [16, 128, 1024, 4096]
    for n in (1_000, 3_333, 50_000):
        assert ivf_lists(n) * 39 <= n


def test_ivf_finds_the_exact_neighbours_and_scores_them_exactly() -> None:
    v = _clumps(4_000)
    store = FaissStore.build(v, "ivf")
    assert store.kind == "ivf" and len(store) == 4_000
    q = v[::97] + 0.05 * np.random.default_rng(1).standard_normal((len(v[::97]), DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    scores, ids = store.search(q, 10)
    assert _recall(ids, _exact(v, q, 10)) >= 0.95
    # Re-scored against the full vectors: the scores are the exact inner products, best first.
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", q, v[ids]), rtol=1e-5, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()
    # Scanning every list is at least as good as the default share.
    store.set_search_depth(16, ivf_share=1.0)
    assert _recall(store.search(q, 10)[1], _exact(v, q, 10)) >= 0.99


def test_search_share_sets_how_many_lists_a_search_scans() -> None:
    store = FaissStore.build(_clumps(2_000), "ivf")
    lists = ivf_lists(2_000)
    for share, probes in ((0.125, lists // 8), (0.5, lists // 2), (1.0, lists), (1e-9, 1)):
        store.set_search_depth(16, ivf_share=share)
        assert store._ivf_params.nprobe == probes


def test_excluded_rows_are_never_returned_and_the_depth_is_kept(tmp_path: Path) -> None:
    v = _clumps(2_000)
    store = FaissStore.build(v, "ivf")
    store.save(tmp_path)
    loaded = FaissStore.load(tmp_path)
    assert loaded.kind == "ivf"
    np.testing.assert_array_equal(loaded.search(v[:20], 5)[1], store.search(v[:20], 5)[1])
    loaded.set_search_depth(16, ivf_share=0.5)
    view = loaded.view()
    view.exclude(np.arange(0, 2_000, 2))
    _, ids = view.search(v[:50], 10)
    assert (ids % 2 == 1).all()
    assert view._ivf_params.nprobe == ivf_lists(2_000) // 2
    assert loaded.search(v[:1], 1)[1][0, 0] == 0  # the shared index still finds what the view excludes


def test_small_corpora_get_an_exact_scan() -> None:
    store = FaissStore.build(_clumps(500), "ivf")
    assert store.kind == "flat"


def _doc(name: str, vectors: np.ndarray) -> DocumentRows:
    chunks = [Chunk(f"{name}#{i}", name, name, name, f"текст {name} {i}", 0, 10, i) for i in range(len(vectors))]
    return DocumentRows(name, {"hash": name, "source": name, "title": name, "chunks": len(chunks)}, chunks, vectors)


def _docs(n: int, seed: int = 3) -> list[DocumentRows]:
    v = _clumps(n * 3, seed)
    return [_doc(f"d{d}.txt", v[d * 3 : d * 3 + 3]) for d in range(n)]


def _change(settings, add=(), remove=frozenset()) -> Change:  # type: ignore[no-untyped-def]
    chunking = {"chunker": "test", "sentence_vectors": False, "passage_titles": False}
    return Change("hashing", DIM, chunking, settings.vector_index, list(add), remove, False)


def test_store_with_an_inverted_file_takes_uploads_and_deletes_as_deltas(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "index", embedder="hashing", vector_index="ivf", ivf_search_share=0.25)
    store = FaissBackend(settings)
    docs = _docs(400)
    store.write(_change(settings, docs))
    reader = store.reader()
    assert reader.base.vectors.kind == "ivf" and len(reader) == 1_200
    assert reader.base.vectors._ivf_params.nprobe == ivf_lists(1_200) // 4
    keys, _ = reader.dense(docs[7].vectors[1], 5)
    assert reader.chunks(keys[:1])[0].chunk_id == "d7.txt#1"

    new = _doc("upload.txt", _clumps(3, seed=99))
    store.write(_change(settings, [new], frozenset({"d7.txt"})))
    reader = store.reader()
    assert reader.delta.size and reader.base.vectors.kind == "ivf"
    keys, _ = reader.dense(new.vectors[0], 3)
    assert reader.chunks(keys[:1])[0].chunk_id == "upload.txt#0"
    keys, _ = reader.dense(docs[7].vectors[1], 20)
    assert not any(c.doc_id == "d7.txt" for c in reader.chunks(keys))
    # The tombstoned view searches as deep as the base.
    assert reader._vectors._ivf_params.nprobe == ivf_lists(1_200) // 4


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_VECTOR_INDEX": "ivf", "RAG_STORE": "milvus"}, "ivf is FAISS's"),
        ({"RAG_IVF_SEARCH_SHARE": "0"}, "ivf_search_share"),
        ({"RAG_IVF_SEARCH_SHARE": "1.5"}, "ivf_search_share"),
    ],
)
def test_bad_inverted_file_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


def test_vector_index_choice_is_checked() -> None:
    assert load_settings(env={"RAG_VECTOR_INDEX": "ivf"}).vector_index == "ivf"
    with pytest.raises(ConfigError, match="vector_index"):
        load_settings(env={"RAG_VECTOR_INDEX": "ivfpq"})


def test_auto_builds_flat_below_the_size_and_a_graph_from_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.store.faiss import vectors as base

    assert load_settings(env={}).vector_index == "auto"
    assert [base.resolved_index("auto", n) for n in (199_999, 200_000)] == ["flat", "hnsw"]
    assert base.resolved_index("hnsw", 10) == "hnsw"
    v = _clumps(2_000)
    assert FaissStore.build(v, "auto").kind == "flat"
    monkeypatch.setattr(base, "AUTO_APPROXIMATE_ROWS", 1_500)
    assert FaissStore.build(v, "auto").kind == "hnsw"
    assert FaissStore.build(v[:1_000], "auto").kind == "flat"


def test_an_index_built_flat_takes_auto_uploads_as_deltas(tmp_path: Path) -> None:
    """An index from before "auto" (manifest "flat") is not rebuilt by the first upload after it."""
    flat = make_settings(tmp_path / "index", embedder="hashing", vector_index="flat")
    FaissBackend(flat).write(_change(flat, _docs(50)))
    auto = make_settings(tmp_path / "index", embedder="hashing", vector_index="auto")
    store = FaissBackend(auto)
    store.write(_change(auto, [_doc("upload.txt", _clumps(3, seed=99))]))
    reader = store.reader()
    assert reader.delta.size == 3 and reader.base.vectors.kind == "flat"
    # Asking for another kind than the base has rebuilds it.
    hnsw = make_settings(tmp_path / "index", embedder="hashing", vector_index="hnsw")
    store = FaissBackend(hnsw)
    store.write(_change(hnsw, [_doc("other.txt", _clumps(3, seed=98))]))
    reader = store.reader()
    assert not reader.delta.size and reader.base.vectors.kind == "hnsw"
