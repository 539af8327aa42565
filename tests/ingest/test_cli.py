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


def test_rebuild_without_a_path_rebuilds_what_the_index_holds_from_anywhere(tmp_path: Path) -> None:
    """The rebuild command the error messages suggest works outside the project directory and
    does not add ./seeds to an index built from other files."""
    import os
    import subprocess
    import sys

    from rag.config import PROJECT_ROOT

    docs, index, elsewhere = tmp_path / "docs", tmp_path / "my index", tmp_path / "elsewhere"
    docs.mkdir()
    elsewhere.mkdir()
    (docs / "a.txt").write_text("Склад в Хиве отгрузил хлопок.", encoding="utf-8")
    (docs / "b.txt").write_text("В Бухаре открыли музей.", encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RAG_EMBEDDER": "hashing", "PYTHONPATH": str(PROJECT_ROOT)}

    def rag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "rag", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
        )

    assert rag("ingest", str(docs), "--index", str(index), "--quiet", cwd=tmp_path).returncode == 0
    rebuilt = rag("ingest", "--rebuild", "--index", str(index), "--quiet", cwd=elsewhere)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "indexed 2 documents" in rebuilt.stdout and "2 chunks embedded" in rebuilt.stdout, rebuilt.stdout
    in_project = rag("ingest", "--rebuild", "--index", str(index), "--quiet", cwd=PROJECT_ROOT)  # has ./seeds
    assert in_project.returncode == 0 and "2 documents" in in_project.stdout, in_project.stdout
    # A first ingest without a path still reads ./seeds, as `make run` does.
    fresh = rag("ingest", "--index", str(tmp_path / "new"), "--quiet", cwd=elsewhere)
    assert fresh.returncode == 2 and "seeds" in fresh.stderr
    # An index that cannot list its documents cannot say what to re-read: the paths must be named.
    current = (index / "CURRENT").read_text().strip()
    (index / "snapshots" / current / "manifest.json").write_text("{", encoding="utf-8")
    damaged = rag("ingest", "--rebuild", "--index", str(index), "--quiet", cwd=elsewhere)
    assert damaged.returncode == 2 and "rag ingest --rebuild PATH" in damaged.stderr, damaged.stderr
    assert rag("ingest", str(docs), "--rebuild", "--index", str(index), "--quiet", cwd=elsewhere).returncode == 0
