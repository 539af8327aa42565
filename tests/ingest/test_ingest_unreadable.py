"""An ingest where no file can be read changes nothing: it must not empty the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import load_settings
from rag.embed import get_embedder
from rag.errors import InputError
from rag.ingest.pipeline import ingest_paths, list_documents
from tests.conftest import run_rag


def _index_with_two_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Первый документ про Ташкент.", encoding="utf-8")
    (docs / "b.md").write_text("# Второй\n\nДокумент про Алматы.", encoding="utf-8")
    index_dir = tmp_path / "idx"
    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing")
    ingest_paths([docs], settings, get_embedder("hashing"), progress=False)
    return index_dir


def test_only_unreadable_files_keep_the_index(tmp_path: Path) -> None:
    index_dir = _index_with_two_docs(tmp_path)
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF-1.4")
    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing")
    report = ingest_paths([bad], settings, get_embedder("hashing"), progress=False)
    assert len(report.errors) == 1 and report.removed == []
    assert {d["doc_id"] for d in list_documents(settings)} == {"a.txt", "b.md"}


def test_cli_reports_failure_and_keeps_the_index(tmp_path: Path) -> None:
    index_dir = _index_with_two_docs(tmp_path)
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"\xff\xfe\xfa")
    res = run_rag("ingest", str(bad), "--index", str(index_dir), "--quiet")
    assert res.returncode == 1 and "skipped: " in res.stderr and "Traceback" not in res.stderr
    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing")
    assert {d["doc_id"] for d in list_documents(settings)} == {"a.txt", "b.md"}


def _docs(tmp_path: Path, files: dict[str, bytes]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, data in files.items():
        (docs / name).write_bytes(data)
    return docs


NO_FILE = "no .txt, .md, .markdown, .html, .htm, .pdf or .docx file in"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"blob.txt": b"\x7fELF\x02\x01\x01\x00" * 64}, "no document could be read"),  # a binary named .txt
        ({"tool.bin": b"\x00" * 64}, NO_FILE),  # no file of a type ingest reads
        ({}, NO_FILE),
    ],
)
def test_nothing_readable_and_no_index_writes_nothing(tmp_path: Path, files: dict[str, bytes], message: str) -> None:
    docs = _docs(tmp_path, files)
    index_dir = tmp_path / "new"
    res = run_rag("ingest", str(docs), "--index", str(index_dir), "--quiet")
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert "indexed" not in res.stdout
    assert ("skipped: " in res.stderr) == bool(files.get("blob.txt"))
    assert not index_dir.exists()
    with pytest.raises(InputError, match="no index was written"):
        ingest_paths([docs], load_settings(env={}, index_dir=index_dir, embedder="hashing"), get_embedder("hashing"))
    assert not index_dir.exists()


def test_if_stale_with_no_files_and_no_index_is_quiet(tmp_path: Path) -> None:
    # An empty seeds/ must not stop `make run` or the image: the server starts without an index
    # and the first upload makes one.
    docs = _docs(tmp_path, {})
    index_dir = tmp_path / "new"
    res = run_rag("ingest", str(docs), "--index", str(index_dir), "--quiet", "--if-stale")
    assert res.returncode == 0 and res.stdout == "" and res.stderr == ""
    assert not index_dir.exists()


def test_if_stale_still_reports_unreadable_files(tmp_path: Path) -> None:
    docs = _docs(tmp_path, {"blob.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    res = run_rag("ingest", str(docs), "--index", str(tmp_path / "new"), "--quiet", "--if-stale")
    assert res.returncode == 2 and "skipped: " in res.stderr and "no document could be read" in res.stderr


def test_an_emptied_directory_still_empties_an_existing_index(tmp_path: Path) -> None:
    # Files deleted from an ingested directory leave the index: an existing index is updated as before.
    index_dir = _index_with_two_docs(tmp_path)
    for f in (tmp_path / "docs").iterdir():
        f.unlink()
    res = run_rag("ingest", str(tmp_path / "docs"), "--index", str(index_dir), "--quiet")
    assert res.returncode == 0 and "2 removed" in res.stdout, res.stderr
    assert list_documents(load_settings(env={}, index_dir=index_dir, embedder="hashing")) == []
