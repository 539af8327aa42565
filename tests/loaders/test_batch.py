"""A folder of real-world files: the good ones indexed with their pages, each bad one reported by
name and skipped; snapshots written before pages existed still open and carry over."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rag.config import Settings, load_settings
from rag.embed import get_embedder
from rag.ingest.pipeline import ingest_paths, list_documents
from rag.search.retrieve import open_retriever
from rag.store.faiss import snapshot
from rag.store.faiss.chunks import FILENAME, read_chunks
from tests.conftest import run_rag
from tests.docgen import docx_bytes, encrypt, scan_pdf


def folder(tmp_path: Path, printed: dict[str, Path]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    english = printed["english"].read_bytes()
    (docs / "handbook.pdf").write_bytes(english)
    (docs / "report.pdf").write_bytes(printed["mixed"].read_bytes())
    (docs / "notes.docx").write_bytes(docx_bytes([("h1", "Заметки"), ("p", "Совещание перенесли на пятницу.")]))
    (docs / "readme.txt").write_text("Папка с документами отдела.", encoding="utf-8")
    (docs / "scan.pdf").write_bytes(scan_pdf(["Скан без текста"]))
    (docs / "secret.pdf").write_bytes(encrypt(english, "secret"))
    (docs / "cut.pdf").write_bytes(english[: len(english) // 3])
    (docs / "broken.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    return docs


def test_cli_ingests_the_good_files_and_names_each_bad_one(tmp_path: Path, printed: dict[str, Path]) -> None:
    docs, index = folder(tmp_path, printed), tmp_path / "index"
    res = run_rag("ingest", str(docs), "--index", str(index), "--quiet", timeout=300)
    assert res.returncode == 0, res.stderr
    skipped = sorted(line for line in res.stderr.splitlines() if line.startswith("skipped: "))
    assert [line.split(":")[1].strip().rsplit("/", 1)[-1] for line in skipped] == [
        "broken.docx",
        "cut.pdf",
        "scan.pdf",
        "secret.pdf",
    ]
    assert "Traceback" not in res.stderr and "4 skipped" in res.stdout
    listed = {d["doc_id"]: d for d in list_documents(load_settings(env={"RAG_INDEX_DIR": str(index)}))}
    assert set(listed) == {"handbook.pdf", "report.pdf", "notes.docx", "readme.txt"}
    assert listed["handbook.pdf"]["pages"] == 3 and listed["report.pdf"]["pages"] == 3
    assert "pages" not in listed["notes.docx"] and "pages" not in listed["readme.txt"]

    found = run_rag("search", "laptops are replaced", "--index", str(index), "--json", "-k", "1")
    top = json.loads(found.stdout)[0]
    assert top["doc_id"] == "handbook.pdf" and top["page_start"] <= 3 == top["page_end"]


def _drop_pages_column(snap: Path) -> None:
    """Make a snapshot look as one written before chunks had pages."""
    con = sqlite3.connect(snap / FILENAME)
    con.execute("ALTER TABLE chunks DROP COLUMN page_start")
    con.commit()
    con.close()


def test_a_snapshot_without_pages_opens_and_takes_a_pdf(
    hashing_settings: Settings, tmp_path: Path, printed: dict[str, Path]
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "a.txt").write_text("Старый документ про Ташкент и Самарканд.", encoding="utf-8")
    embedder = get_embedder("hashing")
    ingest_paths([old], hashing_settings, embedder, progress=False)
    _drop_pages_column(snapshot.current_dir(hashing_settings.index_dir))
    chunks, _ = read_chunks(snapshot.current_dir(hashing_settings.index_dir))
    assert chunks and all(c.page_start is None for c in chunks)
    assert open_retriever(hashing_settings, embedder).search("Ташкент", 1)[0].chunk.page_start is None

    pdf = tmp_path / "handbook.pdf"
    pdf.write_bytes(printed["english"].read_bytes())
    report = ingest_paths([pdf], hashing_settings, embedder, progress=False, prune=False)
    assert report.added == ["handbook.pdf"] and report.documents == 2
    chunks, _ = read_chunks(snapshot.current_dir(hashing_settings.index_dir))
    first_page = {c.doc_id: c.page_start for c in sorted(chunks, key=lambda c: -c.ordinal)}  # each doc's first chunk
    assert first_page["a.txt"] is None and first_page["handbook.pdf"] == 1
    assert max(c.page_end or 0 for c in chunks) == 3
