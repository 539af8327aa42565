"""`rag migrate --to milvus` moves a FAISS index into Milvus (Lite here) without embedding again:
the same documents, the same rankings and scores, and a second run refuses to overwrite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.cli import main
from rag.embed import get_embedder
from rag.ingest.pipeline import ingest_paths
from rag.search.retrieve import open_retriever
from rag.store import open_store
from tests.store.conftest import release_lite_under, store_settings_for

QUESTIONS = ["товарооборот млрд долларов", "водные ресурсы Сырдарьи", "железнодорожный туризм"]


def test_migrate_copies_the_index_and_ranks_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "trade.txt").write_text("Товарооборот Казахстана и Узбекистана достиг 4 млрд долларов.", encoding="utf-8")
    (docs / "water.md").write_text("# Вода\n\nСтороны обсудили водные ресурсы бассейна Сырдарьи.", encoding="utf-8")
    (docs / "tour.txt").write_text(
        "Железнодорожный тур по Великому шелковому пути.\n\nМаршрут проходит через Туркестан и Самарканд.",
        encoding="utf-8",
    )
    faiss = store_settings_for("faiss", tmp_path / "index")
    embedder = get_embedder("hashing")
    ingest_paths([docs], faiss, embedder, progress=False)
    uri = str(tmp_path / "milvus.db")
    args = ["migrate", "--to", "milvus", "--index", str(faiss.index_dir), "--milvus-uri", uri, "--no-progress"]
    try:
        assert main(args) == 0  # one write: BM25 statistics as the source's
        assert "migrated 3 documents, 4 chunks" in capsys.readouterr().out
        milvus = store_settings_for("milvus", tmp_path / "index", milvus_uri=uri)
        target = open_store(milvus)
        try:
            info = target.info()
        finally:
            target.close()
        assert info is not None and info.documents == open_store(faiss).info().documents  # type: ignore[union-attr]
        before, after = open_retriever(faiss, embedder), open_retriever(milvus, embedder)
        for question in QUESTIONS:
            for mode in ("hybrid", "dense", "lexical"):
                want = [(p.chunk.chunk_id, round(p.score, 4)) for p in before.search(question, 4, mode)]
                got = [(p.chunk.chunk_id, round(p.score, 4)) for p in after.search(question, 4, mode)]
                assert got == want, (question, mode)

        assert main(args) == 2  # the target holds an index now: refused without --replace
        assert "--replace" in capsys.readouterr().err
        assert main([*args, "--replace", "--batch", "2"]) == 0  # two writes: the first empties the target
        after = open_retriever(milvus, embedder)
        for question in QUESTIONS:
            assert [p.chunk.chunk_id for p in after.search(question, 4, "hybrid")] == [
                p.chunk.chunk_id for p in before.search(question, 4, "hybrid")
            ]
    finally:
        release_lite_under(tmp_path)


def test_migrate_without_an_index_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["migrate", "--to", "milvus", "--index", str(tmp_path / "none"), "--milvus-uri", str(tmp_path / "m.db")]
    )
    assert code == 2 and "no FAISS index" in capsys.readouterr().err


def test_an_inverted_file_moves_to_milvus_as_hnsw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_VECTOR_INDEX", "ivf")  # FAISS's only: Milvus refuses it as a setting
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "trade.txt").write_text("Товарооборот Казахстана и Узбекистана достиг 4 млрд долларов.", encoding="utf-8")
    faiss = store_settings_for("faiss", tmp_path / "index", vector_index="ivf")
    ingest_paths([docs], faiss, get_embedder("hashing"), progress=False)
    uri = str(tmp_path / "milvus.db")
    args = ["migrate", "--to", "milvus", "--index", str(faiss.index_dir), "--milvus-uri", uri, "--no-progress"]
    try:
        assert main(args) == 0, capsys.readouterr().err
        target = open_store(store_settings_for("milvus", tmp_path / "index", milvus_uri=uri))
        try:
            assert target.meta()["vector_index"] == "hnsw"  # type: ignore[attr-defined]
        finally:
            target.close()
    finally:
        release_lite_under(tmp_path)
