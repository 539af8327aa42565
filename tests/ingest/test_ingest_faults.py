"""Faults around an ingest that must be reported, not crash it or lose documents: file names that
are not UTF-8, directories that cannot be listed, links and pipes, a damaged resume cache, a
snapshot whose delta segment is gone, and questions holding bytes that are not UTF-8."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.embed import get_embedder
from rag.embed.resume import ResumeCache
from rag.errors import IndexCorruptError
from rag.ingest.load import discover
from rag.ingest.pipeline import ingest_paths, list_documents
from rag.store.faiss import snapshot
from rag.store.faiss.delta import FILENAME as DELTA_FILE
from rag.store.faiss.reader import FaissReader
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "idx", embedder="hashing", sentence_vectors=False)


def _ingest(settings: Settings, *paths: Path):  # type: ignore[no-untyped-def]
    return ingest_paths(list(paths), settings, get_embedder("hashing"), progress=False)


def _ids(settings: Settings) -> set[str]:
    return {d["doc_id"] for d in list_documents(settings)}


def test_a_file_name_that_is_not_utf8_is_reported_and_the_rest_indexed(tmp_path: Path, settings: Settings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Хороший документ о торговле.", encoding="utf-8")
    with open(os.fsencode(docs) + b"/bad\xff\xfename.txt", "w", encoding="utf-8") as f:
        f.write("Документ с именем не в UTF-8.")
    report = _ingest(settings, docs)
    assert _ids(settings) == {"good.txt"}
    why = "the file name is not valid UTF-8; rename the file"
    assert [e.message for e in report.errors] == [f"{docs}/bad\\xff\\xfename.txt: {why}"]
    out = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(docs), "--quiet"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "RAG_EMBEDDER": "hashing", "RAG_INDEX_DIR": str(tmp_path / "cli-idx")},
        timeout=120,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    # Reported once (not also as a log warning), with the undecodable bytes escaped.
    assert out.stderr.count("bad\\xff\\xfename.txt") == 1, out.stderr


def test_links_and_pipes_are_reported(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Текст.", encoding="utf-8")
    (docs / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(docs / "pipe.txt")
    (docs / "loop").symlink_to(docs, target_is_directory=True)  # a link to a directory is not followed
    problems: list = []
    found = [f.relative_to(docs).as_posix() for f, _ in discover([docs], problems)]
    assert found == ["good.txt"]
    assert sorted(e.message for e in problems) == [
        f"{docs}/gone.txt: broken symbolic link",
        f"{docs}/pipe.txt: not a regular file",
    ]


def test_a_directory_that_cannot_be_listed_keeps_its_documents(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its files go unseen, so they must not count as deleted (chmod does not bind root: the
    listing fails by patch)."""
    docs = tmp_path / "docs"
    (docs / "locked").mkdir(parents=True)
    (docs / "a.txt").write_text("Первый документ.", encoding="utf-8")
    (docs / "locked" / "b.txt").write_text("Второй документ.", encoding="utf-8")
    _ingest(settings, docs)
    assert _ids(settings) == {"a.txt", "locked/b.txt"}

    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) == docs / "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    (docs / "a.txt").unlink()  # a real deletion in the same run is kept for the next one
    report = _ingest(settings, docs)
    assert [e.message for e in report.errors] == [f"{docs}/locked: cannot list directory: Permission denied"]
    assert report.removed == [] and _ids(settings) == {"a.txt", "locked/b.txt"}
    monkeypatch.setattr(os, "scandir", real)
    assert _ingest(settings, docs).removed == ["a.txt"]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_resume_cache_is_started_again(tmp_path: Path, settings: Settings, damage: str) -> None:
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True)
    cache = ResumeCache(index_dir, "hashing", 4)
    cache.put([f"text {i}" for i in range(500)], np.ones((500, 4), dtype=np.float32))
    cache.close()
    path = index_dir / "resume.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if damage == "garbage":
        path.write_bytes(os.urandom(5000))
    else:
        with open(path, "r+b") as f:
            f.truncate(2048)
    fresh = ResumeCache(index_dir, "hashing", 4)
    assert len(fresh) == 0 and fresh.get(["text 1"]) == [None]
    fresh.put(["x"], np.ones((1, 4), dtype=np.float32))
    fresh.close()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Документ.", encoding="utf-8")
    path.write_bytes(b"not a database at all" * 100)
    assert _ingest(settings, docs).errors == [] and _ids(settings) == {"a.txt"}


def test_a_busy_resume_cache_is_not_thrown_away(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locked, read-only or a full disk (OperationalError) says nothing about the file: it stays."""
    cache = ResumeCache(tmp_path, "hashing", 4)
    cache.put(["kept"], np.ones((1, 4), dtype=np.float32))
    cache.close()

    def busy(self: ResumeCache) -> sqlite3.Connection:
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as m:
        m.setattr(ResumeCache, "_open", busy)
        with pytest.raises(sqlite3.OperationalError):
            ResumeCache(tmp_path, "hashing", 4)
    assert ResumeCache(tmp_path, "hashing", 4).get(["kept"])[0] is not None


def test_a_missing_delta_segment_is_corruption_not_an_empty_delta(tmp_path: Path, settings: Settings) -> None:
    docs, more = tmp_path / "docs", tmp_path / "more"
    docs.mkdir()
    more.mkdir()
    for i in range(20):
        (docs / f"d{i}.txt").write_text(f"Документ номер {i} о торговле и транспорте.", encoding="utf-8")
    _ingest(settings, docs)
    (more / "note.txt").write_text("Заметка о караванах.", encoding="utf-8")
    _ingest(settings, more)  # a small change: a delta segment beside the linked base
    snap = snapshot.current_dir(settings.index_dir)
    assert (snap / DELTA_FILE).exists() and json.loads((snap / "manifest.json").read_text())["delta"]["rows"] == 1
    (snap / DELTA_FILE).unlink()
    with pytest.raises(IndexCorruptError, match=r"delta.sqlite is missing .*rag ingest --rebuild"):
        FaissReader.open(snap, None, ef_search=64, ivf_share=0.25)
    _ingest(settings, docs, more)  # nothing changed on disk: the damage stays until a rebuild
    report = ingest_paths([docs, more], settings, get_embedder("hashing"), progress=False, rebuild=True)
    assert report.errors == [] and "note.txt" in _ids(settings)
    reader = FaissReader.open(snapshot.current_dir(settings.index_dir), None, ef_search=64, ivf_share=0.25)
    assert reader.info.chunks == 21


def test_a_question_with_bytes_that_are_not_utf8_is_one_error_row(tmp_path: Path, settings: Settings) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Объем торговли вырос.", encoding="utf-8")
    _ingest(settings, docs)
    out = subprocess.run(
        [sys.executable, "-m", "rag", "search", "--index", str(settings.index_dir)],
        input="торговля\n".encode() + b"\xff\xfe bad\n" + "объем\n".encode(),
        capture_output=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "RAG_EMBEDDER": "hashing"},
        timeout=120,
    )
    assert b"Traceback" not in out.stderr, out.stderr
    rows = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert [("passages" in r, r.get("error", {}).get("code")) for r in rows] == [
        (True, None),
        (False, "invalid_input"),
        (True, None),
    ]
    assert "not valid text" in rows[1]["error"]["message"] and rows[1]["query"] == "\ufffd\ufffd bad"
