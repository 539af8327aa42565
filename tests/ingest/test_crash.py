"""A killed ingest leaves the previous index usable, and the next ingest cleans up after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embed import get_embedder
from rag.errors import StorageError
from rag.ingest.pipeline import ingest_paths
from rag.search.retrieve import open_retriever
from rag.store.faiss import snapshot
from tests.conftest import make_settings

# A child process that ingests with a slow embedder and says when it is mid-embedding.
CHILD = r"""
import sys, time
from pathlib import Path
from rag.config import load_settings
from rag.embed.hashing import HashingEmbedder
from rag.ingest.pipeline import ingest_paths

class Slow(HashingEmbedder):
    def embed_passages(self, texts):
        print("EMBEDDING", flush=True)
        time.sleep(0.2)
        return super().embed_passages(texts)

settings = load_settings(env={}, index_dir=sys.argv[1], embedder="hashing")
ingest_paths([Path(sys.argv[2])], settings, Slow(), progress=False)
print("FINISHED", flush=True)
"""


def _write_corpus(d: Path, n: int, word: str) -> None:
    d.mkdir(exist_ok=True)
    for i in range(n):
        (d / f"doc{i}.txt").write_text(f"Документ {i} рассказывает про {word} и торговлю номер {i}.", encoding="utf-8")


def test_sigkill_mid_ingest_keeps_previous_index(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "index", embedder="hashing")
    corpus = tmp_path / "docs"
    _write_corpus(corpus, 3, "хлопок")
    first = ingest_paths([corpus], settings, get_embedder("hashing"), progress=False)

    _write_corpus(corpus, 60, "зерно")  # every document changes, 60 to embed in slow batches
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.index_dir), str(corpus)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "EMBEDDING"
    assert child.stdout.readline().strip() == "EMBEDDING"  # so the first batch of 16 is saved
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    # a writer killed inside the snapshot swap leaves a half-built directory like this one
    (settings.index_dir / "snapshots" / ".tmp-killed").mkdir()
    (settings.index_dir / "snapshots" / ".tmp-killed" / "chunks.sqlite").write_bytes(b"half")
    retriever = open_retriever(settings)
    assert retriever.index_version == first.version and len(retriever.chunks) == 3
    assert "хлопок" in retriever.search("хлопок", 1)[0].chunk.text

    from rag.embed.hashing import HashingEmbedder
    from rag.embed.resume import FILENAME

    assert (settings.index_dir / FILENAME).exists()  # the batches embedded before the kill

    class Counting(HashingEmbedder):
        embedded = 0

        def embed_passages(self, texts):  # type: ignore[no-untyped-def]
            Counting.embedded += len(texts)
            return super().embed_passages(texts)

    again = ingest_paths([corpus], settings, Counting(), progress=False)
    assert again.documents == 60
    # 60 one-sentence documents: 60 distinct texts, of which at least the first batch (16) is resumed
    assert 0 < Counting.embedded <= 60 - 16
    assert not (settings.index_dir / FILENAME).exists()
    assert not any(p.name.startswith(".tmp-") for p in (settings.index_dir / "snapshots").iterdir())
    assert "зерно" in open_retriever(settings).search("зерно", 1)[0].chunk.text


def test_failure_before_the_pointer_swap_keeps_previous_index(
    hashing_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "docs"
    _write_corpus(corpus, 2, "хлопок")
    first = ingest_paths([corpus], hashing_settings, get_embedder("hashing"), progress=False)
    _write_corpus(corpus, 4, "зерно")

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(snapshot.os, "replace", boom)
    with pytest.raises(StorageError, match="disk full.*the previous index is intact"):
        ingest_paths([corpus], hashing_settings, get_embedder("hashing"), progress=False)
    monkeypatch.undo()
    assert open_retriever(hashing_settings).index_version == first.version
