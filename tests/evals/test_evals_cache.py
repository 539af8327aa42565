"""The eval index cache lives outside the checkout, so it must name what decides its content:
another version of the indexing code gets another directory, never a stale index."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

import rag.evals.corpus as corpus
from rag.config import Settings
from rag.embed import get_embedder
from rag.types import Document


def _dataset(docs: dict[str, str]) -> corpus.Dataset:
    documents = [
        Document(doc_id=k, source=k, title=k, text=v, content_hash=hashlib.sha256(v.encode()).hexdigest())
        for k, v in docs.items()
    ]
    return corpus.Dataset("tiny", Path("tiny.json"), [], documents=documents, corpus="tiny")


def test_default_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RAG_EVAL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert corpus.default_cache_root() == tmp_path / "xdg" / "rag" / "eval"
    monkeypatch.setenv("RAG_EVAL_CACHE", str(tmp_path / "mine"))
    assert corpus.default_cache_root() == tmp_path / "mine"


def test_other_code_gets_another_directory_and_stale_ones_go(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "unused")
    embedder = get_embedder("hashing")
    ds = _dataset({"a": "Волга впадает в Каспийское море.", "b": "Хан-Тенгри поднимается на 7010 метров."})
    retriever = corpus.open_corpus(ds, settings, embedder, tmp_path / "cache", progress=False)
    assert len(retriever.chunks) == 2
    first = corpus.cache_dir(tmp_path / "cache", ds, settings, embedder)
    assert first.is_dir() and first.name.startswith("tiny-hashing-auto-")

    monkeypatch.setattr(corpus, "code_fingerprint", lambda: "0123456789abcdef")
    second = corpus.cache_dir(tmp_path / "cache", ds, settings, embedder)
    assert second != first and second.name.endswith("-0123456789")
    old = time.time() - 30 * 86400
    os.utime(first / "eval-fingerprint", (old, old))
    corpus.open_corpus(ds, settings, embedder, tmp_path / "cache", progress=False)
    assert second.is_dir() and not first.exists()  # unused for 30 days and built by other code
    assert not first.with_name(first.name + ".lock").exists()


def test_a_changed_document_is_reembedded(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "unused")
    embedder = get_embedder("hashing")
    corpus.open_corpus(_dataset({"a": "Волга впадает в Каспийское море."}), settings, embedder, tmp_path, False)
    retriever = corpus.open_corpus(
        _dataset({"a": "Волга впадает в Каспийское море и течёт через Казань."}), settings, embedder, tmp_path, False
    )
    assert [c.text for c in retriever.chunks] == ["Волга впадает в Каспийское море и течёт через Казань."]
