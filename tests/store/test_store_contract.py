"""The contract every store backend keeps, run over FAISS and Milvus Lite alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rag.config import Settings, replace
from rag.embed import get_embedder
from rag.embed.hashing import HashingEmbedder
from rag.errors import ConfigError, EmbedderMismatchError, IndexMissingError
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import ingest_paths, list_documents, update_index
from rag.search.retrieve import open_retriever
from rag.store import Store, open_store
from rag.text.sentences import passage_sentences
from tests.store.conftest import release_lite

DOCS = {
    "trade.txt": "Товарооборот Казахстана и Узбекистана достиг 4 млрд долларов. Стороны довольны ростом.",
    "water.md": "# Вода\n\nСтороны обсудили водные ресурсы бассейна Сырдарьи. Решение отложили на осень.",
    "tourism.txt": "Туристический поток вырос вдвое. Открыты новые авиарейсы между столицами.",
}


def _corpus(root: Path, docs: dict[str, str] = DOCS) -> Path:
    root.mkdir(exist_ok=True)
    for name, text in docs.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@contextmanager
def _opened(settings: Settings) -> Iterator[Store]:
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()
        release_lite(settings)


def _ingest(settings: Settings, store: Store, corpus: Path):  # type: ignore[no-untyped-def]
    return update_index(
        settings,
        get_embedder("hashing"),
        add=[load_bytes(p.name, p.read_bytes()) for p in sorted(corpus.iterdir())],
        keep_only={p.name for p in corpus.iterdir()},
        store=store,
    )


def test_incremental_by_content_hash(store_settings: Settings, store: Store, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    first = _ingest(store_settings, store, corpus)
    assert sorted(first.added) == sorted(DOCS) and first.documents == 3 and first.embedded_chunks == 3
    again = _ingest(store_settings, store, corpus)  # nothing changed: nothing embedded, same version
    assert again.embedded_chunks == 0 and again.unchanged == 3 and again.version == first.version
    assert store.version() == first.version

    (corpus / "trade.txt").write_text("Товарооборот достиг 3,39 млрд долларов за девять месяцев.", encoding="utf-8")
    (corpus / "water.md").unlink()
    (corpus / "new.txt").write_text("Открыт новый пограничный пункт.", encoding="utf-8")
    third = _ingest(store_settings, store, corpus)
    assert third.updated == ["trade.txt"] and third.removed == ["water.md"] and third.added == ["new.txt"]
    assert third.embedded_chunks == 2 and third.unchanged == 1 and third.chunks == 3
    assert third.version not in (first.version, store_settings.store) and store.version() == third.version

    docs = {d["doc_id"]: d for d in list_documents(store_settings, store)}
    assert set(docs) == {"trade.txt", "new.txt", "tourism.txt"} and docs["new.txt"]["chunks"] == 1
    retriever = open_retriever(store_settings, store=store)
    assert {c.doc_id: c.text for c in retriever.chunks}["trade.txt"].startswith("Товарооборот достиг 3,39")
    for mode in ("hybrid", "dense", "lexical"):
        top = retriever.search("товарооборот 3,39 млрд", 1, mode)[0]
        assert top.chunk.doc_id == "trade.txt" and top.rank == 1, mode
    assert not any(p.chunk.doc_id == "water.md" for p in retriever.search("водные ресурсы Сырдарьи", 5))


def test_delete_hides_a_document_everywhere(store_settings: Settings, store: Store, tmp_path: Path) -> None:
    _ingest(store_settings, store, _corpus(tmp_path / "docs"))
    before = store.version()
    report = update_index(store_settings, get_embedder("hashing"), remove=["water.md"], store=store)
    assert report.removed == ["water.md"] and report.documents == 2 and store.version() != before
    retriever = open_retriever(store_settings, store=store)
    assert len(retriever.reader) == 2 and {c.doc_id for c in retriever.chunks} == {"trade.txt", "tourism.txt"}
    for mode in ("hybrid", "dense", "lexical"):
        assert all(p.chunk.doc_id != "water.md" for p in retriever.search("водные ресурсы Сырдарьи", 5, mode))
    # what answers weigh words with follows the delete: "сырдарь" is in no chunk now
    fresh = replace(store_settings, index_dir=store_settings.index_dir.parent / "fresh")
    with _opened(fresh) as other:
        _ingest(fresh, other, _corpus(tmp_path / "two", {k: v for k, v in DOCS.items() if k != "water.md"}))
        tokens = ["сырдар", "товарооборот", "туристическ", "сторон"]
        assert retriever.idf(tokens) == pytest.approx(open_retriever(fresh, store=other).idf(tokens))


def test_embedder_mismatch_is_refused(store_settings: Settings, store: Store, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    _ingest(store_settings, store, corpus)
    other = replace(store_settings, embedder="hashing:64")
    with pytest.raises(EmbedderMismatchError, match=r"'hashing'.*'hashing:64'"):
        open_retriever(other, store=store)
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        update_index(other, get_embedder("hashing:64"), add=[load_bytes("x.txt", "Текст.".encode())], store=store)
    docs = [load_bytes(p.name, p.read_bytes()) for p in sorted(corpus.iterdir())]
    rebuilt = update_index(other, get_embedder("hashing:64"), add=docs, rebuild=True, store=store)
    assert rebuilt.documents == 3 and rebuilt.embedded_chunks == 3
    assert open_retriever(other, store=store).reader.info.dim == 64


def test_missing_index(store_settings: Settings, store: Store) -> None:
    assert store.info() is None and store.version() is None
    with pytest.raises(IndexMissingError, match="rag ingest"):
        open_retriever(store_settings, store=store)
    with pytest.raises(IndexMissingError):
        list_documents(store_settings, store)
    assert not store_settings.index_dir.exists()  # reading a missing index creates nothing


def test_sentence_vectors_come_with_passages(store_settings: Settings, store: Store, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    _ingest(store_settings, store, corpus)
    (corpus / "new.txt").write_text("Первое предложение. Второе предложение про воду.", encoding="utf-8")
    assert _ingest(store_settings, store, corpus).embedded_chunks == 1  # the others are carried
    retriever = open_retriever(store_settings, store=store)
    for p in retriever.search("предложение про воду", 4):
        assert list(p.sentences) == passage_sentences(p.chunk.text)
        assert p.sentence_vectors is not None and p.sentence_vectors.shape == (len(p.sentences), 256)


def test_a_failed_ingest_leaves_the_last_good_state(store_settings: Settings, store: Store, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "docs")
    first = _ingest(store_settings, store, corpus)

    class Failing(HashingEmbedder):
        def embed_passages(self, texts):  # type: ignore[no-untyped-def]
            raise RuntimeError("embedder died")

    (corpus / "trade.txt").write_text("Совсем другой текст про зерно.", encoding="utf-8")
    with pytest.raises(RuntimeError, match="embedder died"):
        ingest_paths([corpus], store_settings, Failing(), progress=False)
    assert store.version() == first.version
    retriever = open_retriever(store_settings, store=store)
    assert "4 млрд" in retriever.search("товарооборот", 1)[0].chunk.text and len(retriever.reader) == 3


def test_unknown_store_lists_the_known_ones(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    with pytest.raises(ConfigError, match="unknown store 'redis'; known stores: faiss, milvus"):
        open_store(make_settings(tmp_path, store="redis"))
