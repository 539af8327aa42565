"""`make run` re-indexes seeds/ before serving: documents uploaded through the API must survive it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.embed import get_embedder
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import list_documents, update_index

ROOT = Path(__file__).resolve().parents[2]


def _make_index_command() -> list[str]:
    """The `rag ingest` command `make index` would run (dry run, nothing executed)."""
    out = subprocess.run(["make", "-n", "-s", "index"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    lines = [line for line in out.stdout.splitlines() if " ingest " in line]
    assert len(lines) == 1, out.stdout + out.stderr
    return shlex.split(lines[0])


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_index_keeps_uploaded_documents(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing")
    upload = load_bytes("upload.txt", "Загруженный через API документ.".encode())
    update_index(settings, get_embedder("hashing"), add=[upload])  # what POST /v1/documents does

    command = _make_index_command()
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_EMBEDDER": "hashing"}
    res = subprocess.run([*command, "--quiet"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert res.returncode == 0, res.stderr

    ids = {d["doc_id"] for d in list_documents(settings)}
    assert ids == {"upload.txt", "kazakhstan-uzbekistan.ru.txt"}
