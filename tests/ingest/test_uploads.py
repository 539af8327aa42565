"""Uploads are documents: their bytes outlive rebuilds, embedder changes and crashes mid-write."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings, load_settings
from rag.embed import get_embedder
from rag.errors import InputError, StorageError
from rag.ingest import uploads
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import ingest_paths, list_documents, update_index
from rag.search.retrieve import open_retriever

SEEDS = PROJECT_ROOT / "seeds"
NOTE = "В Ташкенте открыли новый пешеходный мост через канал Анхор длиной 120 метров.\n".encode()
NAME = "мост через Анхор — заметка.txt"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, index_dir=tmp_path / "index", embedder="hashing", sentence_vectors=False)


def upload(settings: Settings, name: str = NAME, data: bytes = NOTE) -> None:
    doc = load_bytes(name, data)
    update_index(settings, get_embedder(settings.embedder), add=[doc], uploaded={doc.doc_id: data})


def doc_ids(settings: Settings) -> set[str]:
    return {d["doc_id"] for d in list_documents(settings)}


def finds_bridge(settings: Settings) -> bool:
    retriever = open_retriever(settings, get_embedder(settings.embedder))
    return any(p.chunk.doc_id == NAME for p in retriever.search("мост через канал Анхор", 3, mode="lexical"))


def test_the_bytes_are_kept_under_a_safe_name(settings: Settings) -> None:
    upload(settings)
    files = sorted(p.name for p in (settings.index_dir / "uploads").iterdir())
    assert len(files) == 2 and all(f.isascii() and len(f) < 64 for f in files), files
    assert uploads.read(settings.index_dir, NAME) == NOTE
    assert uploads.stored(settings.index_dir) == {NAME: load_bytes(NAME, NOTE).content_hash}


def test_rebuild_and_plain_ingest_keep_the_upload(settings: Settings) -> None:
    embedder = get_embedder(settings.embedder)
    ingest_paths([SEEDS], settings, embedder, progress=False)
    upload(settings)
    ingest_paths([SEEDS], settings, embedder, progress=False, rebuild=True)
    assert NAME in doc_ids(settings) and finds_bridge(settings)
    ingest_paths([SEEDS], settings, embedder, progress=False)
    assert NAME in doc_ids(settings) and finds_bridge(settings)


def test_an_index_lost_entirely_gets_its_uploads_back(settings: Settings) -> None:
    upload(settings)
    for part in ("snapshots", "CURRENT"):
        path = settings.index_dir / part
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    ingest_paths([SEEDS], settings, get_embedder(settings.embedder), progress=False)
    assert NAME in doc_ids(settings) and finds_bridge(settings)


def test_another_embedder_reingests_the_upload(settings: Settings) -> None:
    upload(settings)
    other = load_settings(env={}, index_dir=settings.index_dir, embedder="hashing:128", sentence_vectors=False)
    ingest_paths([SEEDS], other, get_embedder(other.embedder), progress=False, rebuild=True)
    assert NAME in doc_ids(other) and finds_bridge(other)


def test_deleting_the_document_forgets_its_bytes(settings: Settings) -> None:
    upload(settings)
    update_index(settings, get_embedder(settings.embedder), remove=[NAME])
    assert uploads.stored(settings.index_dir) == {} and NAME not in doc_ids(settings)
    ingest_paths([SEEDS], settings, get_embedder(settings.embedder), progress=False, rebuild=True)
    assert NAME not in doc_ids(settings)


def test_a_failed_ingest_restores_the_previous_upload(settings: Settings, monkeypatch: Any) -> None:
    upload(settings)
    import rag.ingest.index as index

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index, "embed_passages", full)
    with pytest.raises(StorageError, match="No space left"):
        upload(settings, data="Совсем другой текст про мост.\n".encode())
    assert uploads.read(settings.index_dir, NAME) == NOTE
    with pytest.raises(StorageError, match="No space left"):
        upload(settings, name="new.txt", data=b"A new note.\n")
    assert uploads.read(settings.index_dir, "new.txt") is None


def test_a_crash_mid_write_leaves_no_half_upload(settings: Settings) -> None:
    upload(settings)
    folder = settings.index_dir / "uploads"
    (folder / ("0" * 32 + ".bin")).write_bytes(b"half written")  # bytes whose JSON never came
    (folder / ".tmp-x.json").write_bytes(b"{")
    assert set(uploads.stored(settings.index_dir)) == {NAME}
    upload(settings, name="other.txt", data=b"Other text.\n")
    assert not (folder / ("0" * 32 + ".bin")).exists() and not (folder / ".tmp-x.json").exists()


def test_corrupt_bytes_are_reported_not_indexed(settings: Settings) -> None:
    upload(settings)
    blob = next((settings.index_dir / "uploads").glob("*.bin"))
    blob.write_bytes(b"tampered")
    assert uploads.read(settings.index_dir, NAME) is None
    report = ingest_paths([SEEDS], settings, get_embedder(settings.embedder), progress=False, rebuild=True)
    assert [e.path for e in report.errors] == [NAME]


def test_rebuild_rereads_other_directories_and_refuses_to_drop_what_it_cannot(
    settings: Settings, tmp_path: Path
) -> None:
    embedder = get_embedder(settings.embedder)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("Alpha document about rivers.\n", encoding="utf-8")
    (other / "b.txt").write_text("Beta document about mountains.\n", encoding="utf-8")
    ingest_paths([other], settings, embedder, progress=False)
    ingest_paths([SEEDS], settings, embedder, progress=False, rebuild=True)
    assert {"a.txt", "b.txt"} <= doc_ids(settings)  # read again from other/, not dropped
    (other / "b.txt").unlink()
    with pytest.raises(InputError, match=r"would drop 1 document\(s\).*b\.txt.*--drop-missing"):
        ingest_paths([SEEDS], settings, embedder, progress=False, rebuild=True)
    assert "b.txt" in doc_ids(settings)  # the refusal changed nothing
    ingest_paths([SEEDS], settings, embedder, progress=False, rebuild=True, drop_missing=True)
    assert "a.txt" in doc_ids(settings) and "b.txt" not in doc_ids(settings)


def test_cli_rebuild_keeps_an_upload(settings: Settings) -> None:
    ingest_paths([SEEDS], settings, get_embedder(settings.embedder), progress=False)
    upload(settings)
    out = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", "seeds", "--rebuild", "--quiet", "--embedder", "hashing"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "RAG_INDEX_DIR": str(settings.index_dir), "RAG_SENTENCE_VECTORS": "0"},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert NAME in doc_ids(settings) and finds_bridge(settings)
