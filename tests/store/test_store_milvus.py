"""What the Milvus store adds to the contract: the same rankings as FAISS, writes that touch only
the changed document's rows, a kill mid-write, and Milvus Lite's one-process-per-directory lock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.embed import get_embedder
from rag.errors import IndexError_
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import ingest_paths, list_documents, update_index
from rag.search.retrieve import open_retriever
from rag.store import Store, open_store
from rag.store.milvus.backend import MilvusBackend
from tests.conftest import run_rag
from tests.store.conftest import release_lite, store_settings_for

SEEDS = PROJECT_ROOT / "seeds"
QUERIES = [
    "Каков объем взаимной торговли за январь–сентябрь 2025 года?",
    "водные ресурсы и энергетика",
    "Shavkat Mirziyoyev state visit",
    "сколько совместных предприятий работает",
    "xyzzy",  # matches nothing lexically
]


@pytest.fixture
def milvus(tmp_path: Path) -> Iterator[tuple[Settings, Store]]:
    settings = store_settings_for("milvus", tmp_path / "milvus")
    store = open_store(settings)
    yield settings, store
    store.close()
    release_lite(settings)


def _keys(store: Any, doc_id: str) -> set[int]:
    rows = store.client.query(store.chunks_col, filter=f'doc_id == "{doc_id}"', output_fields=["id"])
    return {int(r["id"]) for r in rows}


def test_milvus_ranks_like_faiss(milvus: tuple[Settings, Store], tmp_path: Path) -> None:
    m_settings, m_store = milvus
    f_settings = store_settings_for("faiss", tmp_path / "faiss")
    for settings, store in ((f_settings, None), (m_settings, m_store)):
        ingest_paths([SEEDS], settings, get_embedder("hashing"), progress=False, store=store)
    faiss, milvus_r = open_retriever(f_settings), open_retriever(m_settings, store=m_store)
    assert len(faiss.reader) == len(milvus_r.reader) and faiss.chunks == milvus_r.chunks
    for query in QUERIES:
        for mode in ("dense", "lexical", "hybrid"):
            a, b = faiss.search(query, 10, mode), milvus_r.search(query, 10, mode)
            assert [p.chunk for p in a] == [p.chunk for p in b], (query, mode)
            assert [p.score for p in a] == pytest.approx([p.score for p in b], rel=1e-4, abs=1e-5), (query, mode)
    tokens = ["торговл", "2025", "mirziyoyev", "unseen"]
    assert faiss.idf(tokens) == pytest.approx(milvus_r.idf(tokens))


def test_an_upload_touches_only_its_own_rows(milvus: tuple[Settings, Store]) -> None:
    settings, store = milvus
    embedder = get_embedder("hashing")
    update_index(
        settings, embedder, add=[load_bytes("a.txt", ("Первый документ о хлопке. " * 40).encode())], store=store
    )
    update_index(
        settings, embedder, add=[load_bytes("b.txt", ("Второй документ о зерне. " * 40).encode())], store=store
    )
    a_rows = _keys(store, "a.txt")
    b_old = _keys(store, "b.txt")
    assert a_rows and b_old
    report = update_index(
        settings, embedder, add=[load_bytes("b.txt", ("Новый текст о шерсти. " * 40).encode())], store=store
    )
    assert report.embedded_chunks == len(_keys(store, "b.txt")) and report.unchanged == 0
    assert _keys(store, "a.txt") == a_rows  # untouched rows keep their primary keys: nothing rewritten
    assert not _keys(store, "b.txt") & b_old
    assert "шерст" in open_retriever(settings, store=store).search("шерсть", 1)[0].chunk.text


def test_a_kill_between_insert_and_delete_keeps_the_document_searchable(
    milvus: tuple[Settings, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, store = milvus
    embedder = get_embedder("hashing")
    first = update_index(settings, embedder, add=[load_bytes("a.txt", "Старый текст о хлопке.".encode())], store=store)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies after inserting the new rows

    monkeypatch.setattr(MilvusBackend, "_delete_ids", killed)
    with pytest.raises(KeyboardInterrupt):
        update_index(settings, embedder, add=[load_bytes("a.txt", "Новый текст о зерне.".encode())], store=store)
    monkeypatch.undo()
    assert store.version() == first.version
    assert list_documents(settings, store)[0]["hash"] == first_hash(store)
    found = open_retriever(settings, store=store).search("хлопок", 1)[0]
    assert found.chunk.text == "Старый текст о хлопке."  # the last good state is still there

    again = update_index(settings, embedder, add=[load_bytes("a.txt", "Новый текст о зерне.".encode())], store=store)
    assert again.updated == ["a.txt"] and again.chunks == 1 and len(_keys(store, "a.txt")) == 1
    assert len(open_retriever(settings, store=store).reader) == 1  # statistics count one generation


def first_hash(store: Store) -> str:
    info = store.info()
    assert info is not None
    return str(info.documents["a.txt"]["hash"])


def test_a_lite_directory_is_served_by_one_process(milvus: tuple[Settings, Store]) -> None:
    settings, store = milvus
    update_index(settings, get_embedder("hashing"), add=[load_bytes("a.txt", "Текст.".encode())], store=store)
    res = run_rag("search", "текст", "--store", "milvus", "--index", str(settings.index_dir))
    assert res.returncode == IndexError_.exit_code and "Traceback" not in res.stderr
    assert "open in another process" in res.stderr and "milvus-lite server" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_milvus_hnsw_searches_at_the_configured_depth(tmp_path: Path) -> None:
    settings = store_settings_for("milvus", tmp_path / "hnsw", vector_index="hnsw", hnsw_ef_search=100)
    store = open_store(settings)
    try:
        ingest_paths([SEEDS], settings, get_embedder("hashing"), progress=False, store=store)
        retriever = open_retriever(settings, store=store)
        assert retriever.reader._dense_params["params"] == {"ef": 100}
        exact_settings = store_settings_for("faiss", tmp_path / "flat")
        ingest_paths([SEEDS], exact_settings, get_embedder("hashing"), progress=False)
        exact = open_retriever(exact_settings)
        for query in QUERIES[:4]:  # 45 chunks: at this depth the graph search is exact
            assert [p.chunk.chunk_id for p in retriever.search(query, 5, "dense")] == [
                p.chunk.chunk_id for p in exact.search(query, 5, "dense")
            ]
    finally:
        store.close()
        release_lite(settings)


def test_a_damaged_manifest_says_rebuild_without_the_parser_s_words(milvus: tuple[Settings, Store]) -> None:
    from rag.errors import IndexCorruptError
    from rag.store.milvus import schema

    settings, store = milvus
    update_index(settings, get_embedder("hashing"), add=[load_bytes("a.txt", "Текст о хлопке.".encode())], store=store)
    backend: Any = store
    backend.client.upsert(backend.kv_col, [schema.kv_row("meta", "meta", '{"version": ')])
    backend.client.flush(backend.kv_col)
    with pytest.raises(IndexCorruptError) as caught:
        store.info()
    assert "rag ingest --rebuild" in caught.value.message and "Expecting" not in caught.value.message
