"""Hostile documents through `rag ingest` and through upload: each is ingested or refused clearly,
and the rest of the batch goes in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, Settings, load_settings
from rag.embed import get_embedder
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import ingest_paths, list_documents

GOOD = "Мост через канал Анхор длиной 120 метров открыли в Ташкенте."
# name -> (bytes, the reason it is refused, or None when it must be ingested)
HOSTILE: dict[str, tuple[bytes, str | None]] = {
    "empty.txt": (b"", "no text in file"),
    "blank.md": (b"  \n\n\t\n", "no text in file"),
    "binary.txt": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4, "binary file"),
    "cp1251.txt": ("Текст в кодировке Windows-1251.".encode("cp1251"), "not valid UTF-8"),
    "utf16.txt": ("\ufeffТекст в UTF-16 с меткой порядка байтов.".encode("utf-16-le"), None),
    "utf16be.txt": ("\ufeffТекст в UTF-16 BE.".encode("utf-16-be"), None),
    "scripts.html": (
        b"<html><head><title>T</title><script>alert(1)</script></head><body><p>Visible text.</p>"
        b"<img src=x onerror=alert(2)><p>&lt;img src=x onerror=alert(3)&gt;</p></body></html>",
        None,
    ),
    "deep.html": (b"<html><body>" + b"<div>" * 5000 + b"Deep text." + b"</div>" * 5000 + b"</body></html>", None),
    "one-line.txt": (("слово " * 15_000).encode(), None),  # 90 KB without a sentence end
    "dots..in..name..txt": (b"Dots in the name.", None),
    "a b;c&d'e.txt": (b"Shell characters in the name.", None),
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={}, index_dir=tmp_path / "index", embedder="hashing", sentence_vectors=False)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_document_loads_or_is_refused_clearly(name: str) -> None:
    data, reason = HOSTILE[name]
    if reason is None:
        doc = load_bytes(name, data)
        assert doc.text.strip() and "<" not in doc.text.replace("< ", "") and "alert" not in doc.text
    else:
        with pytest.raises(Exception, match=reason) as info:
            load_bytes(name, data)
        assert name in str(info.value)


def test_the_cli_ingests_the_good_and_names_the_bad(tmp_path: Path, settings: Settings) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for name, (data, _) in HOSTILE.items():
        (docs / name).write_bytes(data)
    (docs / "sub" / "good.txt").write_text(GOOD, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(docs), "--quiet", "--embedder", "hashing"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "RAG_INDEX_DIR": str(settings.index_dir), "RAG_SENTENCE_VECTORS": "0"},
        timeout=600,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    refused = {n for n, (_, reason) in HOSTILE.items() if reason}
    for name in refused:
        assert f"skipped: {docs / name}: {HOSTILE[name][1]}" in out.stderr, out.stderr
    indexed = {d["doc_id"] for d in list_documents(settings)}
    assert indexed == (set(HOSTILE) - refused) | {"sub/good.txt"}
    # No absolute path of the machine that ingested them is shown with citations.
    assert all(not d["source"].startswith("/") for d in list_documents(settings))


def test_an_unreadable_batch_leaves_the_index_as_it_was(tmp_path: Path, settings: Settings) -> None:
    embedder = get_embedder(settings.embedder)
    good = tmp_path / "good"
    good.mkdir()
    (good / "good.txt").write_text(GOOD, encoding="utf-8")
    ingest_paths([good], settings, embedder, progress=False)
    (good / "good.txt").write_bytes(HOSTILE["cp1251.txt"][0])  # the same file, now unreadable
    report = ingest_paths([good], settings, embedder, progress=False)
    assert [e.reason for e in report.errors] == ["not valid UTF-8 (byte 0): re-save the file as UTF-8"]
    assert [d["doc_id"] for d in list_documents(settings)] == ["good.txt"]  # old version kept


def test_chunking_a_huge_document_reports_progress_so_a_stopping_server_can_end_it(
    tmp_path: Path, settings: Settings
) -> None:
    """A text without sentence ends is cut word by word (seconds per MB): chunking reports as it
    goes, and a report is where a server that is shutting down ends the job."""
    from rag.ingest.pipeline import update_index

    class StoppedError(Exception):
        pass

    calls: list[tuple[str, int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        calls.append((stage, done, total))
        if len(calls) > 1:
            raise StoppedError

    doc = load_bytes("wall.txt", " ".join(f"слово{i}" for i in range(200_000)).encode())  # 1.5 MB, one sentence
    with pytest.raises(StoppedError):
        update_index(settings, get_embedder("hashing"), add=[doc], on_progress=progress)
    assert calls == [("chunking", 0, 1), ("chunking", 0, 1)]  # the second report came from inside the chunker
    assert not (settings.index_dir / "CURRENT").exists()
