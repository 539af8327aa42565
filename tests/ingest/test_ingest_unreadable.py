"""An ingest where no file can be read changes nothing: it must not empty the index."""

from __future__ import annotations

from pathlib import Path

from rag.config import load_settings
from rag.embed import get_embedder
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
