"""An embedder name that is wrong says so, and a mismatch suggests only commands that can work."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from rag.config import Settings, ingest_command, load_settings, replace
from rag.embed import get_embedder
from rag.embed.hashing import HashingEmbedder
from rag.errors import ConfigError, EmbedderMismatchError
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import update_index
from rag.search.retrieve import open_retriever
from tests.conftest import run_rag

KNOWN = "known embedders: e5-small, hashing, sentence-transformers"


@pytest.fixture
def indexed(hashing_settings: Settings) -> Settings:
    update_index(hashing_settings, get_embedder("hashing"), add=[load_bytes("a.txt", "Ташкент — столица.".encode())])
    return hashing_settings


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bogus", f"unknown embedder 'bogus'; {KNOWN}"),
        ("bogus:model", f"unknown embedder 'bogus'; {KNOWN}"),
        ("sentence-transformers:", "sentence-transformers needs a model"),
        ("hashing:abc", "hashing takes a dimension"),
        ("hashing:0", "hashing takes a dimension"),
    ],
)
def test_a_name_no_backend_takes_is_a_config_error_not_a_mismatch(indexed: Settings, name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        open_retriever(replace(indexed, embedder=name))
    assert "--rebuild" not in err.value.message
    with pytest.raises(ConfigError, match=message):
        get_embedder(name)


def test_a_valid_name_gets_the_rebuild_command(indexed: Settings) -> None:
    # A sentence-transformers model is named, not loaded, to say what to do.
    name = "sentence-transformers:intfloat/multilingual-e5-base"
    with pytest.raises(EmbedderMismatchError) as err:
        open_retriever(replace(indexed, embedder=name))
    assert "RAG_EMBEDDER=hashing" in err.value.message
    assert f"`rag ingest --rebuild --embedder {name} --index {indexed.index_dir}`" in err.value.message


def test_an_index_built_with_a_name_this_installation_does_not_know(hashing_settings: Settings) -> None:
    retired = HashingEmbedder()
    retired.name = "word2vec"  # a backend an older or other installation had
    update_index(hashing_settings, retired, add=[load_bytes("a.txt", "Ташкент — столица.".encode())])
    for fail in (
        lambda: open_retriever(hashing_settings),
        lambda: update_index(hashing_settings, get_embedder("hashing"), add=[load_bytes("b.txt", b"Text.")]),
    ):
        with pytest.raises(EmbedderMismatchError) as err:
            fail()
        message = err.value.message
        assert "'word2vec', which no embedder here provides" in message and "RAG_EMBEDDER=word2vec" not in message
        assert f"`rag ingest --rebuild --embedder hashing --index {hashing_settings.index_dir}`" in message


def test_rag_ask_with_an_unknown_embedder(indexed: Settings, tmp_path: Path) -> None:
    res = run_rag("ask", "что?", "--index", str(indexed.index_dir), "--embedder", "bogus")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.startswith(f"rag ask: error: unknown embedder 'bogus'; {KNOWN}")
    assert "--embedder bogus" not in res.stderr and len(res.stderr.splitlines()) == 1
    bad = run_rag("ingest", str(tmp_path), "--index", str(indexed.index_dir), "--embedder", "hashing:abc")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "hashing takes a dimension" in bad.stderr


def suggested(stderr: str) -> list[str]:
    """The arguments of the `rag ...` command a one-line error suggests (between backticks)."""
    words = shlex.split(stderr.split("`")[1])
    assert words[0] == "rag", stderr
    return words[1:]


def test_suggested_commands_name_the_index_they_are_about(tmp_path: Path) -> None:
    docs, index = tmp_path / "docs", tmp_path / "my index"
    docs.mkdir()
    (docs / "a.txt").write_text("Ташкент — столица Узбекистана.", encoding="utf-8")
    assert run_rag("ingest", str(docs), "--index", str(index), "--quiet").returncode == 0

    other = ("--index", str(index), "--embedder", "hashing:64")
    for res in (run_rag("search", "столица", *other), run_rag("ingest", str(docs), *other)):
        assert res.returncode == 3 and "RAG_EMBEDDER=hashing" in res.stderr, res.stderr
        command = suggested(res.stderr)
        assert command[:2] == ["ingest", "--rebuild"] and command[command.index("--index") + 1] == str(index)
    # The command does what it says, on this index (not on ./index).
    assert run_rag(*command, "--quiet").returncode == 0
    assert run_rag("search", "столица", *other).returncode == 0

    live = (index / "CURRENT").read_text(encoding="utf-8").strip()
    (index / "snapshots" / live / "manifest.json").write_text("{", encoding="utf-8")
    damaged = run_rag("search", "столица", *other)
    assert damaged.returncode == 3 and suggested(damaged.stderr) == ["ingest", "--rebuild", "--index", str(index)]

    missing = run_rag("search", "столица", "--index", str(tmp_path / "none"))
    assert missing.returncode == 3 and suggested(missing.stderr) == ["ingest", "--index", str(tmp_path / "none")]
    milvus = run_rag("search", "столица", "--index", str(tmp_path / "m"), "--store", "milvus")
    assert suggested(milvus.stderr) == ["ingest", "--index", str(tmp_path / "m"), "--store", "milvus"], milvus.stderr


def test_suggested_commands_name_only_what_differs_from_the_defaults() -> None:
    assert ingest_command(load_settings(env={}), "--rebuild") == "`rag ingest --rebuild`"
    milvus = load_settings(env={"RAG_STORE": "milvus", "RAG_INDEX_DIR": "index"})
    assert ingest_command(milvus) == "`rag ingest --store milvus`"
    server = load_settings(
        env={"RAG_STORE": "milvus", "RAG_MILVUS_URI": "http://milvus:19530", "RAG_MILVUS_COLLECTION": "docs"}
    )
    assert ingest_command(server, "--rebuild") == (
        "`RAG_MILVUS_URI=http://milvus:19530 RAG_MILVUS_COLLECTION=docs rag ingest --rebuild --store milvus`"
    )
