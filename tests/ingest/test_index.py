"""Incremental ingest, bad files, embedder mismatch and damaged indexes (hashing embedder: fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings, replace
from rag.embed import get_embedder
from rag.errors import EmbedderMismatchError, IndexCorruptError, IndexMissingError
from rag.ingest.pipeline import ingest_paths, list_documents
from rag.search.retrieve import open_retriever


def _ingest(settings: Settings, corpus: Path):  # type: ignore[no-untyped-def]
    return ingest_paths([corpus], settings, get_embedder(settings.embedder), progress=False)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "trade.txt").write_text("Товарооборот Казахстана и Узбекистана достиг 4 млрд долларов.", encoding="utf-8")
    (d / "water.md").write_text("# Вода\n\nСтороны обсудили водные ресурсы бассейна Сырдарьи.", encoding="utf-8")
    (d / "sub").mkdir()
    (d / "sub" / "page.html").write_text(
        "<html><head><title>Туризм</title><style>p{}</style></head><body><nav>меню</nav>"
        "<p>Туристический поток вырос вдвое.</p><script>var x=1</script></body></html>",
        encoding="utf-8",
    )
    return d


def test_add_change_delete(hashing_settings: Settings, corpus: Path) -> None:
    r1 = _ingest(hashing_settings, corpus)
    assert sorted(r1.added) == ["sub/page.html", "trade.txt", "water.md"] and r1.documents == 3
    docs = {d["doc_id"]: d for d in list_documents(hashing_settings)}
    assert docs["sub/page.html"]["title"] == "Туризм"
    retriever = open_retriever(hashing_settings)
    html_text = " ".join(c.text for c in retriever.chunks if c.doc_id == "sub/page.html")
    assert "вдвое" in html_text and "меню" not in html_text and "var x" not in html_text

    r2 = _ingest(hashing_settings, corpus)  # nothing changed: nothing embedded, same snapshot
    assert r2.embedded_chunks == 0 and r2.unchanged == 3 and r2.version == r1.version

    (corpus / "trade.txt").write_text("Товарооборот достиг 3,39 млрд долларов за девять месяцев.", encoding="utf-8")
    (corpus / "water.md").unlink()
    (corpus / "new.txt").write_text("Открыт новый пограничный пункт.", encoding="utf-8")
    r3 = _ingest(hashing_settings, corpus)
    assert r3.updated == ["trade.txt"] and r3.removed == ["water.md"] and r3.added == ["new.txt"]
    assert r3.embedded_chunks == 2 and r3.unchanged == 1

    retriever = open_retriever(hashing_settings)
    texts = {c.doc_id: c.text for c in retriever.chunks}
    assert set(texts) == {"trade.txt", "new.txt", "sub/page.html"}
    assert "3,39" in texts["trade.txt"]
    top = retriever.search("товарооборот 3,39 млрд", 1)[0]
    assert top.chunk.doc_id == "trade.txt"


def test_bad_files_are_reported_and_skipped(hashing_settings: Settings, corpus: Path) -> None:
    (corpus / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    (corpus / "empty.md").write_text("   \n", encoding="utf-8")
    (corpus / "image.png").write_bytes(b"\x00\x01")  # unsupported suffix: not even looked at
    report = _ingest(hashing_settings, corpus)
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"blob.txt", "latin1.txt", "empty.md"}
    assert "binary" in reasons["blob.txt"] and "UTF-8" in reasons["latin1.txt"]
    assert report.documents == 3


def test_unreadable_file_keeps_its_previous_version(hashing_settings: Settings, corpus: Path) -> None:
    _ingest(hashing_settings, corpus)
    (corpus / "trade.txt").write_bytes(b"\xff\xfe broken now")
    report = _ingest(hashing_settings, corpus)
    assert report.removed == [] and len(report.errors) == 1
    assert "trade.txt" in {d["doc_id"] for d in list_documents(hashing_settings)}


def test_embedder_mismatch_is_refused_naming_both(hashing_settings: Settings, corpus: Path) -> None:
    _ingest(hashing_settings, corpus)
    other = replace(hashing_settings, embedder="hashing:64")
    with pytest.raises(EmbedderMismatchError, match=r"'hashing'.*'hashing:64'"):
        open_retriever(other)
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        _ingest(other, corpus)
    rebuilt = ingest_paths([corpus], other, get_embedder("hashing:64"), progress=False, rebuild=True)
    assert rebuilt.documents == 3 and open_retriever(other).reader.info.dim == 64


def test_missing_and_corrupt_index(hashing_settings: Settings, corpus: Path) -> None:
    with pytest.raises(IndexMissingError, match="rag ingest"):
        open_retriever(hashing_settings)
    _ingest(hashing_settings, corpus)
    snap = hashing_settings.index_dir / "snapshots" / (hashing_settings.index_dir / "CURRENT").read_text().strip()
    (snap / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorruptError, match="vectors.faiss is damaged or cut short: rebuild with"):
        open_retriever(hashing_settings)
    (snap / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="rebuild"):
        open_retriever(hashing_settings)
    (hashing_settings.index_dir / "CURRENT").write_text("nope")
    with pytest.raises(IndexCorruptError):
        open_retriever(hashing_settings)


def test_sentence_vectors_are_stored_and_carried(hashing_settings: Settings, corpus: Path) -> None:
    from rag.answer.relevance import score_sentences
    from rag.text.sentences import passage_sentences

    _ingest(hashing_settings, corpus)
    (corpus / "new.txt").write_text("Первое предложение. Второе предложение про воду.", encoding="utf-8")
    report = _ingest(hashing_settings, corpus)
    assert report.embedded_chunks == 1
    retriever = open_retriever(hashing_settings)
    stored = retriever.reader.sentences(range(len(retriever.chunks)))
    assert all(s is not None for s in stored)  # carried rows keep theirs
    for chunk, sent in zip(retriever.chunks, stored, strict=True):
        assert sent is not None
        spans, vecs = sent
        assert list(spans) == passage_sentences(chunk.text) and vecs.shape == (len(spans), 256)

    class NoPassages:  # scoring must not embed sentences again when the index stored them
        name, dim = "hashing", 256

        def embed_queries(self, texts):  # type: ignore[no-untyped-def]
            return get_embedder("hashing").embed_queries(texts)

        def embed_passages(self, texts):  # type: ignore[no-untyped-def]
            raise AssertionError("sentence embedded at question time")

    passages = retriever.search("вода", 3)
    assert passages[0].sentence_vectors is not None
    assert score_sentences("вода", passages, NoPassages())  # type: ignore[arg-type]


def test_hnsw_index_finds_what_flat_finds(hashing_settings: Settings, corpus: Path) -> None:
    flat = _ingest(hashing_settings, corpus)
    hnsw_settings = replace(hashing_settings, index_dir=hashing_settings.index_dir.parent / "hnsw", vector_index="hnsw")
    _ingest(hnsw_settings, corpus)
    assert len(list_documents(hnsw_settings)) == flat.documents
    for query in ("товарооборот", "водные ресурсы", "туристический поток"):
        a = [p.chunk.chunk_id for p in open_retriever(hashing_settings).search(query, 2, "dense")]
        b = [p.chunk.chunk_id for p in open_retriever(hnsw_settings).search(query, 2, "dense")]
        assert a == b
    vectors = open_retriever(hnsw_settings).reader.base.vectors  # type: ignore[attr-defined]
    assert type(vectors._index).__name__ == "IndexHNSWFlat"


def test_pruning_touches_only_documents_from_the_ingested_directories(
    hashing_settings: Settings, tmp_path: Path, corpus: Path
) -> None:
    from rag.ingest.load import load_bytes
    from rag.ingest.pipeline import update_index

    other = tmp_path / "other"
    other.mkdir()
    (other / "memo.txt").write_text("Служебная записка о поставках зерна.", encoding="utf-8")
    _ingest(hashing_settings, corpus)
    _ingest(hashing_settings, other)  # a second directory adds, it does not replace
    update_index(
        hashing_settings, get_embedder("hashing"), add=[load_bytes("upload.md", "# Загрузка\n\nТекст".encode())]
    )
    ids = {d["doc_id"] for d in list_documents(hashing_settings)}
    assert ids == {"trade.txt", "water.md", "sub/page.html", "memo.txt", "upload.md"}

    (corpus / "water.md").unlink()
    report = _ingest(hashing_settings, corpus)  # re-syncing one directory drops only its deleted file
    assert report.removed == ["water.md"]
    single = ingest_paths([other / "memo.txt"], hashing_settings, get_embedder("hashing"), progress=False)
    assert single.removed == []  # a single file never prunes anything
    ids = {d["doc_id"] for d in list_documents(hashing_settings)}
    assert ids == {"trade.txt", "sub/page.html", "memo.txt", "upload.md"}


def test_bm25_is_saved_with_the_snapshot_and_loads_identical(hashing_settings: Settings, corpus: Path) -> None:
    import numpy as np

    from rag.store.lexical import BM25_DIR, DF_FILE, LexicalIndex

    _ingest(hashing_settings, corpus)
    retriever = open_retriever(hashing_settings)
    snap = hashing_settings.index_dir / "snapshots" / retriever.index_version
    assert LexicalIndex.is_saved(snap)
    fresh = LexicalIndex([c.indexed_text(hashing_settings.passage_titles) for c in retriever.chunks])
    for query in ("товарооборот млрд", "водные ресурсы Сырдарьи", "туризм", "nothing matches"):
        assert np.allclose(retriever.reader.lexical_index.scores(query), fresh.scores(query))  # type: ignore[attr-defined]
    tokens = ["товарооборот", "вод", "туристическ", "unseen"]
    assert retriever.lexical.idf(tokens) == fresh.idf(tokens)
    assert retriever.lexical.idf(["торговл"]) != fresh.idf(["unseen"])  # a counted term is not "unseen"

    (snap / BM25_DIR / "vocab.index.json").write_text("{broken")
    with pytest.raises(IndexCorruptError, match="bm25"):
        open_retriever(hashing_settings)
    (snap / BM25_DIR / DF_FILE).unlink()  # a snapshot saved before the counts were: rebuilt from chunks
    assert open_retriever(hashing_settings).lexical.idf(tokens) == fresh.idf(tokens)
