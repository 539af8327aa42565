"""The FAISS store: every write builds a complete snapshot and swaps it in (``snapshot``).

Cost of a write: unchanged documents are carried without embedding them again, but their chunks,
vectors and sentence vectors are copied into the new snapshot and BM25 is rebuilt over every
chunk, so adding one document costs time in proportion to the corpus. Each chunk's BM25 terms are
stored in the snapshot (the chunk store's ``terms`` table), so carried chunks are not stemmed
again: stemming every chunk of the corpus was most of an upload's time outside embedding. That
buys crash safety for free: ``CURRENT`` names a complete snapshot at every instant. A corpus that
grows by uploads well past one machine's comfort is what ``RAG_STORE=milvus`` is for
(docs/store.md).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMissingError
from rag.store.base import Change, IndexInfo, Sentences
from rag.store.faiss import snapshot
from rag.store.faiss.chunks import read_chunks, read_sentences, read_terms, write_chunks
from rag.store.faiss.vectors import FaissStore
from rag.store.lexical import BM25_DIR, LexicalIndex
from rag.text.terms import tokenize
from rag.types import Chunk


def _info(snap: Path) -> IndexInfo:
    m = snapshot.read_manifest(snap)
    docs = m["documents"]
    return IndexInfo(snap.name, m["embedder"], int(m["dim"]), m.get("chunking") or {}, docs, m["chunks"], len(docs))


class FaissBackend:
    """Snapshots of a FAISS index, a SQLite chunk store and BM25 under ``settings.index_dir``."""

    name = "faiss"

    def __init__(self, settings: Settings) -> None:
        self.index_dir = settings.index_dir
        self.location = str(settings.index_dir)

    def info(self, doc_ids: Collection[str] | None = None) -> IndexInfo | None:
        try:  # the manifest holds every record anyway
            return _info(snapshot.current_dir(self.index_dir))
        except IndexMissingError:
            return None

    def version(self) -> str | None:
        try:
            return snapshot.current_dir(self.index_dir).name
        except (IndexMissingError, IndexCorruptError):
            return None

    def writing(self) -> AbstractContextManager[None]:
        return snapshot.writer_lock(self.index_dir)

    def write(self, change: Change) -> IndexInfo:
        old = None if change.reset else self.info()
        old_chunks: list[Chunk] = []
        old_vecs: np.ndarray | None = None
        old_sents: dict[int, Sentences] = {}
        old_terms: list[list[str]] | None = None
        if old is not None:
            snap = snapshot.current_dir(self.index_dir)
            old_chunks, old_vecs = read_chunks(snap, with_vectors=True)
            old_terms = read_terms(snap, len(old_chunks))
            if old.chunking == change.chunking and change.chunking.get("sentence_vectors"):
                old_sents = read_sentences(snap, old.dim)
        replaced = {d.doc_id for d in change.add} | set(change.remove)
        kept = [i for i, c in enumerate(old_chunks) if c.doc_id not in replaced]
        fresh = [c for d in change.add for c in d.chunks]
        chunks = [old_chunks[i] for i in kept] + fresh
        # BM25 terms of the chunks carried over come from the old snapshot, not from stemming again.
        titles = bool(change.chunking.get("passage_titles"))
        kept_terms = (
            [old_terms[i] for i in kept]
            if old_terms is not None
            else [tokenize(old_chunks[i].indexed_text(titles)) for i in kept]
        )
        terms = kept_terms + [tokenize(c.indexed_text(titles)) for c in fresh]
        sentences: list[Sentences | None] = [old_sents.get(i) for i in kept]
        for d in change.add:
            sentences.extend(d.sentences or [None] * len(d.chunks))
        parts = [d.vectors for d in change.add]
        if old_vecs is not None:
            parts.insert(0, old_vecs[kept])
        parts = [p for p in parts if len(p)]
        vectors = np.concatenate(parts) if parts else np.empty((0, change.dim), dtype=np.float32)
        docs = {k: v for k, v in (old.documents if old else {}).items() if k not in replaced}
        docs.update({d.doc_id: d.meta for d in change.add})
        version = snapshot.new_version()
        with snapshot.staging(self.index_dir, version) as tmp:
            write_chunks(tmp, zip(chunks, vectors, strict=False), sentences, terms)
            FaissStore.build(vectors, change.vector_index).save(tmp)
            LexicalIndex([c.text for c in chunks], terms).save(tmp)
            snapshot.write_manifest(
                tmp,
                {
                    "version": version,
                    "embedder": change.embedder,
                    "dim": change.dim,
                    "chunking": change.chunking,
                    "vector_index": change.vector_index,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "chunks": len(chunks),
                    "documents": dict(sorted(docs.items())),
                },
            )
        return IndexInfo(version, change.embedder, change.dim, change.chunking, docs, len(chunks), len(docs))

    def reader(self) -> FaissReader:
        return FaissReader.open(snapshot.current_dir(self.index_dir))

    def close(self) -> None:
        """Nothing to release: readers hold their snapshot in memory."""


class FaissReader:
    """One snapshot, loaded whole: vectors, chunks, BM25 and sentence vectors; keys are rows."""

    def __init__(
        self,
        info: IndexInfo,
        vectors: FaissStore,
        chunks: Sequence[Chunk],
        lexical: LexicalIndex,
        sentences: dict[int, Sentences],
    ) -> None:
        self.info, self.vectors, self.lexical_index = info, vectors, lexical
        self._chunks, self._sentences = tuple(chunks), sentences

    @classmethod
    def open(cls, snap: Path) -> FaissReader:
        info = _info(snap)
        vectors = FaissStore.load(snap)
        chunks, _ = read_chunks(snap)
        if len(vectors) != len(chunks) or (len(chunks) and vectors.dim != info.dim):
            raise IndexCorruptError(
                f"index snapshot {snap.name} is inconsistent ({len(vectors)} vectors of dim {vectors.dim}, "
                f"{len(chunks)} chunks, manifest dim {info.dim}): rebuild with `rag ingest --rebuild`"
            )
        lexical = _lexical(snap, chunks, bool(info.chunking.get("passage_titles")))
        return cls(info, vectors, chunks, lexical, read_sentences(snap, info.dim))

    def __len__(self) -> int:
        return len(self._chunks)

    def dense(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores, ids = self.vectors.search(query[None, :], k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def lexical(self, query: str, k: int, also: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        scores = self.lexical_index.scores(query)
        if not len(scores):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        top = np.argsort(-scores, kind="stable")[:k]
        top = top[scores[top] > 0]
        extra = np.setdiff1d(np.asarray(also, dtype=np.int64), top)
        keys = np.concatenate([top, extra]).astype(np.int64)
        return keys, scores[keys]

    def idf(self, tokens: Iterable[str]) -> dict[str, float]:
        return self.lexical_index.idf(tokens)

    def document_frequencies(self, tokens: Iterable[str]) -> dict[str, int]:
        return self.lexical_index.document_frequencies(tokens)

    def chunks(self, keys: Sequence[int]) -> list[Chunk]:
        return [self._chunks[int(k)] for k in keys]

    def sentences(self, keys: Sequence[int]) -> list[Sentences | None]:
        return [self._sentences.get(int(k)) for k in keys]

    def all_chunks(self) -> Iterator[Chunk]:
        return iter(self._chunks)


def _lexical(snap: Path, chunks: Sequence[Chunk], titles: bool) -> LexicalIndex:
    """The BM25 index saved with the snapshot; built from the chunks for snapshots without one."""
    if chunks and not LexicalIndex.is_saved(snap):  # snapshots from before doc_freqs.json
        return LexicalIndex([c.indexed_text(titles) for c in chunks])
    try:
        return LexicalIndex.load(snap, len(chunks))
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(
            f"{snap / BM25_DIR} is unreadable ({exc}): rebuild with `rag ingest --rebuild`"
        ) from None
