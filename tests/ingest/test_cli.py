"""The `rag` command line as a user runs it: real processes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def rag(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=300,
    )


def test_help_on_every_command() -> None:
    out = rag("--help")
    assert out.returncode == 0 and "ingest" in out.stdout and "search" in out.stdout
    for cmd in ("ingest", "search", "ask", "serve", "eval"):
        res = rag(cmd, "--help")
        assert res.returncode == 0 and "usage: rag " + cmd in res.stdout, res.stderr


def test_ingest_and_search_with_hashing_embedder(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Объем торговли достиг 3,39 млрд долларов.", encoding="utf-8")
    (docs / "bad.txt").write_bytes(b"\xff\xfe\x00\x00")
    env = {"RAG_INDEX_DIR": str(tmp_path / "idx"), "RAG_EMBEDDER": "hashing"}
    out = rag("ingest", str(docs), "--quiet", env=env)
    assert out.returncode == 0, out.stderr
    assert "1 documents" in out.stdout and "skipped: " in out.stderr and "bad.txt" in out.stderr
    assert "Traceback" not in out.stderr

    res = rag("search", "торговля", "--json", "-k", "3", env=env)
    rows = json.loads(res.stdout)
    assert rows[0]["rank"] == 1 and rows[0]["doc_id"] == "a.txt"
    assert {"rank", "score", "chunk_id", "doc_id", "source", "text"} <= set(rows[0])

    batch = rag("search", "--mode", "dense", env=env, stdin="торговля\n\nдоллары\n")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [x["query"] for x in lines] == ["торговля", "доллары"] and lines[0]["passages"]

    mismatch = rag("search", "торговля", env={**env, "RAG_EMBEDDER": "e5-small"})
    assert mismatch.returncode == 3 and "'hashing'" in mismatch.stderr and "'e5-small'" in mismatch.stderr


@pytest.mark.parametrize(
    "args,code,message",
    [
        (("search", "   "), 2, "empty"),
        (("search", "что-то", "--index", "/nonexistent/index"), 3, "rag ingest"),
        (("search", "x", "--top-k", "0"), 2, "top_k must be between 1 and 50"),
        (("ask", "x", "--top-k", "51", "--index", "/nonexistent"), 2, "top_k must be between 1 and 50"),
        (("ask", "x", "--generator", "gpt9", "--index", "/nonexistent"), 2, "unknown generator 'gpt9'"),
        (("ingest", "/nonexistent/path"), 2, "no such file"),
        (("search", "x", "--embedder", "word2vec", "--index", "/nonexistent"), 3, "rag ingest"),
    ],
)
def test_bad_input_is_one_line_error(args: tuple[str, ...], code: int, message: str) -> None:
    res = rag(*args)
    assert res.returncode == code, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_search_on_seed_index(seed_settings: Settings) -> None:
    res = rag("search", "Где прошел саммит ОТГ?", "--json", "--index", str(seed_settings.index_dir))
    rows = json.loads(res.stdout)
    assert any("Габал" in r["text"] for r in rows)
