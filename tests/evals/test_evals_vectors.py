"""Passage vectors of eval corpora are kept by content: a rebuild for other code embeds only new text,
and only embedders whose vectors are a function of the text are cached at all."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import rag.evals.corpus as corpus
from rag.config import Settings
from rag.embed import token_counter
from rag.embed.hashing import HashingEmbedder
from rag.embed.resume import ResumeCache
from rag.evals.vectors import StoredVectors, identity, stored_vectors
from rag.types import Document


class Counting(HashingEmbedder):
    """Counts the passages it embeds."""

    def __init__(self) -> None:
        super().__init__(64)
        self.passages: list[str] = []

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages.extend(texts)
        return super().embed_passages(texts)


class Unnamed(Counting):
    """An embedder that does not say what its vectors depend on (a model at a path, say)."""

    vector_identity = None  # type: ignore[assignment]


def _dataset(docs: dict[str, str]) -> corpus.Dataset:
    documents = [
        Document(doc_id=k, source=k, title=k, text=v, content_hash=hashlib.sha256(v.encode()).hexdigest())
        for k, v in docs.items()
    ]
    return corpus.Dataset("tiny", Path("tiny.json"), [], documents=documents, corpus="tiny")


DOCS = {
    "a": "Волга впадает в Каспийское море. Её длина 3530 км.",
    "b": "Хан-Тенгри поднимается на 7010 метров. Это вершина Тянь-Шаня.",
}


def test_a_rebuild_for_other_code_embeds_nothing_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "unused")
    embedder = Counting()
    first = corpus.open_corpus(_dataset(DOCS), settings, embedder, tmp_path / "cache", progress=False)
    embedded = len(embedder.passages)
    assert embedded >= 2  # chunks, and sentences when the index keeps their vectors
    assert (tmp_path / "cache" / "vectors" / "hashing_64-v1.sqlite").is_file()

    monkeypatch.setattr(corpus, "code_fingerprint", lambda: "0123456789abcdef")
    second = corpus.open_corpus(_dataset(DOCS), settings, embedder, tmp_path / "cache", progress=False)
    assert len(embedder.passages) == embedded  # another directory, built from stored vectors only
    assert [p.chunk.chunk_id for p in first.search("Куда впадает Волга?", 2, mode="dense")] == [
        p.chunk.chunk_id for p in second.search("Куда впадает Волга?", 2, mode="dense")
    ]

    changed = dict(DOCS, a="Волга впадает в Каспийское море. Она течёт через Казань.")
    corpus.open_corpus(_dataset(changed), settings, embedder, tmp_path / "cache", progress=False)
    new = embedder.passages[embedded:]
    assert new and all("Хан-Тенгри" not in t for t in new)  # only the changed document's text


def _file(tmp_path: Path) -> ResumeCache:
    return ResumeCache(tmp_path, "hashing:64-v1", 64, filename="v.sqlite")


def test_stored_vectors_equal_fresh_ones(tmp_path: Path) -> None:
    inner = Counting()
    stored = StoredVectors(inner, _file(tmp_path))
    texts = ["первый текст", "второй текст", "первый текст"]
    assert np.array_equal(stored.embed_passages(texts), HashingEmbedder(64).embed_passages(texts))
    assert inner.passages == ["первый текст", "второй текст"]  # a repeated text is embedded once
    again = StoredVectors(Counting(), _file(tmp_path))  # another process, the same file
    assert np.array_equal(again.embed_passages(texts[:2]), stored.embed_passages(texts[:2]))
    assert again.hits == 2 and again.misses == 0
    assert stored.embed_passages([]).shape == (0, 64)
    # Queries are never taken from the file (their latency is measured).
    assert np.array_equal(again.embed_queries(["первый текст"]), inner.embed_queries(["первый текст"]))
    assert (again.hits, again.misses) == (2, 0)


def test_a_row_of_another_dimension_is_embedded_again(tmp_path: Path) -> None:
    _file(tmp_path).put(["текст"], np.ones((1, 8), dtype=np.float32))
    inner = Counting()
    v = StoredVectors(inner, _file(tmp_path)).embed_passages(["текст"])
    assert inner.passages == ["текст"] and v.shape == (1, 64)


def test_only_embedders_that_name_their_vectors_are_cached(tmp_path: Path) -> None:
    assert identity(Counting()) == "hashing:64-v1"
    unnamed = Unnamed()
    assert identity(unnamed) is None
    assert stored_vectors(unnamed, tmp_path) is unnamed
    assert not (tmp_path / "vectors").exists()


def test_the_wrapper_keeps_the_backends_token_window(tmp_path: Path) -> None:
    class Windowed(Counting):
        max_tokens = 100

        def count_tokens(self, text: str) -> int:
            return len(text)

    stored = stored_vectors(Windowed(), tmp_path)
    count, window = token_counter(stored)  # type: ignore[arg-type]
    assert window == 100 and count("абв") == 3
    assert stored.name == "hashing:64" and stored.dim == 64


def test_the_store_hands_back_every_vector_of_its_dimension(tmp_path: Path) -> None:
    store = ResumeCache(tmp_path, "e", 3, filename="v.sqlite")
    assert store.vectors().shape == (0, 3)
    store.put(["a", "b"], np.eye(3, dtype=np.float32)[:2])
    ResumeCache(tmp_path, "e", 2, filename="v.sqlite").put(["c"], np.ones((1, 2), dtype=np.float32))
    got = store.vectors()
    assert got.shape == (2, 3) and sorted(map(tuple, got.tolist())) == [(0, 1, 0), (1, 0, 0)]
