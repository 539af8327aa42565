"""FAISS delta segments: small writes link the base and write only the change, and read the same
as a full rebuild of the same documents (BM25 up to the base's average length)."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.store import Change, DocumentRows
from rag.store.faiss import snapshot
from rag.store.faiss.backend import FaissBackend, LiveState
from rag.store.faiss.delta import FILENAME as DELTA_FILE
from rag.store.faiss.reader import FaissReader
from rag.types import Chunk
from tests.conftest import make_settings

DIM = 16
WORDS = (
    "река город завод налог банк школа поезд остров музей театр выборы нефть газ уголь зерно "
    "порт мост закон суд армия флот озеро гора лес поле рынок цена курс рубль экспорт"
).split()
QUERIES = ["нефть газ экспорт", "река мост город", "суд закон", "театр музей остров", "зерно рынок цена рубль"]


def _doc(name: str, rng: random.Random, chunks: int = 3) -> DocumentRows:
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 25))) for _ in range(chunks)]
    found = [Chunk(f"{name}#{i}", name, name, name, t, 0, len(t), i) for i, t in enumerate(texts)]
    vecs = np.random.default_rng(rng.randint(0, 2**31)).standard_normal((chunks, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    spans = tuple((0, len(t)) for t in texts)
    sentences = [((spans[i],), vecs[i : i + 1]) for i in range(chunks)]
    return DocumentRows(name, {"hash": name, "source": name, "title": name, "chunks": chunks}, found, vecs, sentences)


def _change(
    settings: Settings, add: Sequence[DocumentRows] = (), remove: frozenset[str] = frozenset(), reset: bool = False
) -> Change:
    chunking = {"chunker": "test", "sentence_vectors": True, "passage_titles": False}
    return Change("hashing", DIM, chunking, settings.vector_index, list(add), remove, reset)


@pytest.fixture(params=["flat", "hnsw"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "index", embedder="hashing", vector_index=request.param)


def _state(reader: FaissReader) -> dict[str, object]:
    """Everything a search sees, by chunk id (keys differ between a delta and a full snapshot)."""
    ids = lambda keys: [c.chunk_id for c in reader.chunks(keys)]  # noqa: E731
    rng = np.random.default_rng(7)
    dense = []
    for _ in range(5):
        q = rng.standard_normal(DIM).astype(np.float32)
        keys, scores = reader.dense(q / np.linalg.norm(q), 10)
        dense.append(list(zip(ids(keys), np.round(scores, 5).tolist(), strict=True)))
    lexical = []
    for q in QUERIES:
        keys, scores = reader.lexical(q, 200)
        lexical.append(dict(zip(ids(keys), scores.tolist(), strict=True)))
    terms = sorted(set(WORDS))
    live = {c.chunk_id for c in reader.all_chunks()}
    keys = range(len(reader.base.table) + len(reader.delta.chunks))
    stored = zip(reader.chunks(keys), reader.sentences(keys), strict=True)
    return {
        "chunks": sorted(c.chunk_id for c in reader.all_chunks()),
        "len": len(reader),
        "documents": reader.info.documents,
        "dense": dense,
        "lexical": lexical,
        "df": reader.document_frequencies(terms),
        "idf": reader.idf(terms),
        "sentences": {c.chunk_id: s[1].tolist() for c, s in stored if s is not None and c.chunk_id in live},
    }


def _assert_same(delta: dict[str, object], full: dict[str, object], exact_bm25: bool) -> None:
    for key in ("chunks", "len", "documents", "dense", "df", "idf"):
        assert delta[key] == full[key], key
    for got, want in zip(delta["lexical"], full["lexical"], strict=True):  # type: ignore[call-overload]
        assert set(got) == set(want)  # the same chunks match
        for cid, score in want.items():
            # A delta scores with the base's average length, the only difference from a rebuild.
            assert got[cid] == pytest.approx(score, rel=1e-5 if exact_bm25 else 0.05)
    assert delta["sentences"] == full["sentences"]


def test_small_writes_make_deltas_that_read_as_a_rebuild(settings: Settings, tmp_path: Path) -> None:
    rng = random.Random(0)
    docs = {f"d{i}": _doc(f"d{i}", rng) for i in range(40)}  # 120 chunks: a delta may hold 12 rows
    store = FaissBackend(settings)
    store.write(_change(settings, list(docs.values()), reset=True))
    base = snapshot.current_dir(settings.index_dir)
    assert not (base / DELTA_FILE).exists()
    inodes = [os.stat(base / name).st_ino for name in ("chunks.sqlite", "vectors.faiss")]
    first = store.reader()

    docs["new"] = _doc("new", rng)
    store.write(_change(settings, [docs["new"]]))  # an upload
    store.write(_change(settings, remove=frozenset({"d3"})))  # a delete
    del docs["d3"]
    docs["d5"] = _doc("d5", rng, chunks=2)  # a replaced document
    store.write(_change(settings, [docs["d5"]]))
    store.write(_change(settings, remove=frozenset({"new"})))  # a delete of a delta document
    del docs["new"]

    snap = snapshot.current_dir(settings.index_dir)
    manifest = snapshot.read_manifest(snap)
    assert manifest["delta"] == {"base_rows": 120, "rows": 2, "tombstones": 6}
    # The base is linked, not rewritten (and outlives the pruned snapshot that made it).
    assert [os.stat(snap / name).st_ino for name in ("chunks.sqlite", "vectors.faiss")] == inodes
    reader = store.reader()
    assert reader.base is first.base  # a serving process keeps the base it holds

    ref = make_settings(tmp_path / "ref", embedder="hashing", vector_index=settings.vector_index)
    FaissBackend(ref).write(_change(ref, list(docs.values()), reset=True))
    full = _state(FaissBackend(ref).reader())
    _assert_same(_state(reader), full, exact_bm25=False)

    # Migration and full writes read the live rows: the same chunks as the rebuild, in key order.
    live = LiveState.read(snap, DIM)
    assert sorted(c.chunk_id for c in live.chunks) == full["chunks"]
    assert live.vectors is not None and len(live.vectors) == len(live.chunks) == len(live.sentences)

    # Past the delta share, the next write compacts into a full snapshot: exact again.
    for i in range(3):
        docs[f"d{i}"] = _doc(f"d{i}", rng, chunks=4)
        store.write(_change(settings, [docs[f"d{i}"]]))
    snap = snapshot.current_dir(settings.index_dir)
    assert not (snap / DELTA_FILE).exists() and "delta" not in snapshot.read_manifest(snap)
    FaissBackend(ref).write(_change(ref, list(docs.values()), reset=True))
    _assert_same(_state(store.reader()), _state(FaissBackend(ref).reader()), exact_bm25=True)


def test_a_failed_delta_write_leaves_the_last_good_state(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(1)
    store = FaissBackend(settings)
    store.write(_change(settings, [_doc(f"d{i}", rng) for i in range(40)], reset=True))
    before = snapshot.current_dir(settings.index_dir)

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot.os, "replace", boom)
    with pytest.raises(OSError):
        store.write(_change(settings, remove=frozenset({"d1"})))
    monkeypatch.undo()
    assert snapshot.current_dir(settings.index_dir) == before
    assert len(store.reader()) == 120 and not list((before.parent).glob(".tmp-*"))
    store.write(_change(settings, remove=frozenset({"d1"})))
    assert len(store.reader()) == 117


def test_large_changes_and_old_indexes_write_full_snapshots(settings: Settings) -> None:
    rng = random.Random(2)
    store = FaissBackend(settings)
    store.write(_change(settings, [_doc(f"d{i}", rng) for i in range(10)], reset=True))  # 30 rows: 3 fit
    store.write(_change(settings, [_doc("big", rng, chunks=4)]))
    assert not (snapshot.current_dir(settings.index_dir) / DELTA_FILE).exists()
    store.write(_change(settings, remove=frozenset({"d0"})))
    snap = snapshot.current_dir(settings.index_dir)
    assert (snap / DELTA_FILE).exists()
    # A base written before BM25 kept its average length takes no delta.
    (snap / "bm25" / "stats.json").unlink()
    store.write(_change(settings, remove=frozenset({"d1"})))
    snap = snapshot.current_dir(settings.index_dir)
    assert not (snap / DELTA_FILE).exists() and (snap / "bm25" / "stats.json").exists()
    assert len(store.reader()) == 28


def test_hnsw_search_depth_comes_from_settings(tmp_path: Path) -> None:
    rng = random.Random(5)
    docs = [_doc(f"d{i}.txt", rng) for i in range(20)]
    for ef in (16, 300):
        settings = make_settings(tmp_path / f"ef{ef}", embedder="hashing", vector_index="hnsw", hnsw_ef_search=ef)
        store = FaissBackend(settings)
        store.write(_change(settings, docs))
        reader = store.reader()
        assert reader.base.vectors._index.hnsw.efSearch == ef
        # A delta's tombstones search with the same depth.
        store.write(_change(settings, remove=frozenset({"d0.txt"})))
        reader = store.reader()
        assert reader.delta.size and reader._vectors._params.efSearch == ef
        keys, _ = reader.dense(docs[1].vectors[0], 5)
        assert "d1.txt#0" in [c.chunk_id for c in reader.chunks(keys)]
