"""An ingest onto a damaged FAISS snapshot never writes a damaged one.

A small change makes a delta snapshot that hard-links the base files of the current one, so a
damaged base would be handed on to every later snapshot. Vectors and BM25 are derived data: a
damaged one is rebuilt from the chunk store in a full snapshot. A damaged chunk store, the source
of both, refuses the write and says to rebuild; the index is left exactly as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embed import get_embedder
from rag.errors import IndexCorruptError
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import ingest_paths, list_documents, update_index
from rag.search.retrieve import open_retriever
from rag.store.faiss import snapshot
from tests.conftest import make_settings, run_rag

NEW = "Новый документ про пшеницу и элеваторы."


def _docs(folder: Path) -> Path:
    folder.mkdir()
    for i in range(30):
        (folder / f"doc{i}.txt").write_text(f"Документ {i} о торговле хлопком в году {2000 + i}.", encoding="utf-8")
    return folder


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 3)


def _scribble(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(b"not what was written here " * 8)


def _bm25(snap: Path) -> Path:
    return max((snap / "bm25").glob("*.npy"), key=lambda p: p.stat().st_size)


# What damages which file: (file in the snapshot, how).
DERIVED: dict[str, tuple[Callable[[Path], Path], Callable[[Path], None]]] = {
    "vectors-cut": (lambda s: s / "vectors.faiss", _truncate),
    "vectors-scribbled": (lambda s: s / "vectors.faiss", _scribble),
    "vectors-gone": (lambda s: s / "vectors.faiss", os.remove),
    "bm25-cut": (_bm25, _truncate),
}
SOURCE: dict[str, tuple[Callable[[Path], Path], Callable[[Path], None]]] = {
    "chunks-cut": (lambda s: s / "chunks.sqlite", _truncate),
    "chunks-scribbled": (lambda s: s / "chunks.sqlite", _scribble),
    "chunks-gone": (lambda s: s / "chunks.sqlite", os.remove),
}
LIBRARY_WORDS = ("faiss::", ".cpp", "Error in", "not a database", "malformed", "EOF", "array header")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path / "index", embedder="hashing")
    ingest_paths([_docs(tmp_path / "docs")], settings, get_embedder("hashing"), progress=False)
    return settings


def _damage(settings: Settings, kind: str) -> Path:
    which, how = {**DERIVED, **SOURCE}[kind]
    how(which(snapshot.current_dir(settings.index_dir)))
    return snapshot.current_dir(settings.index_dir)


def _files(index_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index_dir)): p.read_bytes() for p in sorted(index_dir.rglob("*")) if p.is_file()}


def _add_one(settings: Settings) -> None:
    update_index(settings, get_embedder("hashing"), add=[load_bytes("new.txt", NEW.encode())])


@pytest.mark.parametrize("kind", sorted(DERIVED))
def test_damaged_vectors_or_bm25_are_rebuilt_from_the_chunk_store(settings: Settings, kind: str) -> None:
    damaged = _damage(settings, kind)
    with pytest.raises(IndexCorruptError):
        open_retriever(settings)
    _add_one(settings)
    current = snapshot.current_dir(settings.index_dir)
    assert current != damaged and not (current / "delta.sqlite").exists()  # a full snapshot, nothing linked
    retriever = open_retriever(settings)
    assert len(retriever.reader) == 31
    assert retriever.search("пшеница элеваторы", top_k=1)[0].chunk.doc_id == "new.txt"
    assert retriever.search("хлопком 2017", top_k=1, mode="lexical")[0].chunk.doc_id == "doc17.txt"


@pytest.mark.parametrize("kind", sorted(SOURCE))
def test_a_damaged_chunk_store_refuses_the_write_and_changes_nothing(settings: Settings, kind: str) -> None:
    _damage(settings, kind)
    before = _files(settings.index_dir)
    with pytest.raises(IndexCorruptError) as err:
        _add_one(settings)
    message = err.value.message
    assert "rag ingest --rebuild" in message and not any(w in message for w in LIBRARY_WORDS), message
    after = _files(settings.index_dir)
    assert {k: v for k, v in after.items() if not k.startswith("resume")} == {
        k: v for k, v in before.items() if not k.startswith("resume")
    }
    rebuilt = ingest_paths([settings.index_dir.parent / "docs"], settings, get_embedder("hashing"), rebuild=True)
    assert rebuilt.documents == 30 and len(open_retriever(settings).reader) == 30


def test_rag_ingest_onto_a_damaged_chunk_store(settings: Settings, tmp_path: Path) -> None:
    _damage(settings, "chunks-scribbled")
    (tmp_path / "docs" / "new.txt").write_text(NEW, encoding="utf-8")
    index = str(settings.index_dir)
    res = run_rag("ingest", str(tmp_path / "docs"), "--index", index, "--quiet")
    assert res.returncode == 3 and "Traceback" not in res.stderr and len(res.stderr.splitlines()) == 1, res.stderr
    assert "rag ingest --rebuild" in res.stderr and not any(w in res.stderr for w in LIBRARY_WORDS)
    again = run_rag("ingest", str(tmp_path / "docs"), "--index", index, "--quiet", "--rebuild")
    assert again.returncode == 0, again.stderr
    assert len(list_documents(settings)) == 31


def test_the_error_for_damaged_vectors_holds_no_library_words(settings: Settings) -> None:
    _damage(settings, "vectors-cut")
    with pytest.raises(IndexCorruptError) as err:
        open_retriever(settings)
    assert "rag ingest --rebuild" in err.value.message
    assert not any(w in err.value.message for w in LIBRARY_WORDS), err.value.message
