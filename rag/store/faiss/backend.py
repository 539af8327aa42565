"""The FAISS store: every write makes a complete snapshot and swaps it in (``snapshot``).

Two kinds of write. A small change (an upload, a delete) links the previous snapshot's base
files and writes only a delta segment (``delta``): its cost follows the change, not the corpus.
A large change, a rebuild, or a delta grown past ``delta.DELTA_SHARE`` of the base writes a full
snapshot: unchanged documents are carried without embedding them again (their chunks, vectors,
sentence vectors and stored BM25 terms are copied, so nothing is stemmed twice) and BM25 is
rebuilt over every chunk. Either way ``CURRENT`` names a complete snapshot at every instant.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMissingError
from rag.store.base import Change, IndexInfo, Sentences
from rag.store.faiss import delta as deltas
from rag.store.faiss import snapshot
from rag.store.faiss.chunks import FILENAME as CHUNKS_FILE
from rag.store.faiss.chunks import read_chunks, read_sentences, read_terms, rows_of, write_chunks
from rag.store.faiss.reader import Base, FaissReader, base_rows, check_base, snapshot_info
from rag.store.faiss.vectors import FaissStore, resolved_index
from rag.store.lexical import LexicalIndex
from rag.text.terms import tokenize
from rag.types import Chunk

log = logging.getLogger(__name__)


class FaissBackend:
    """Snapshots of a FAISS index, a SQLite chunk store and BM25 under ``settings.index_dir``."""

    name = "faiss"
    delta_share = deltas.DELTA_SHARE

    def __init__(self, settings: Settings) -> None:
        self.index_dir = settings.index_dir
        self.location = str(settings.index_dir)
        self.ef_search = settings.hnsw_ef_search
        self.ivf_share = settings.ivf_search_share
        self._base: Base | None = None  # the last base segment a reader loaded, reused while linked

    def info(self, doc_ids: Collection[str] | None = None) -> IndexInfo | None:
        try:  # the manifest holds every record anyway
            return snapshot_info(snapshot.current_dir(self.index_dir))
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
        if change.reset:
            return self._write_full(None, change)
        try:
            snap = snapshot.current_dir(self.index_dir)
        except IndexMissingError:
            return self._write_full(None, change)
        # One read of the manifest (every document's record) for the whole write.
        manifest = snapshot.read_manifest(snap)
        old = snapshot_info(snap, manifest)
        delta = self._delta_for(snap, manifest, old, change)
        if delta is None:
            return self._write_full(old, change)
        try:
            check_base(snap, manifest, old)
        except IndexCorruptError as exc:
            # A delta would link the damaged files as they are, and every later snapshot with them.
            # A full snapshot writes vectors and BM25 anew from the chunk store (and refuses, with
            # this same advice, when the chunk store is what is damaged).
            info = self._write_full(old, change)
            damage = exc.message.removesuffix(f": {snapshot.rebuild_advice(self.index_dir)}")
            log.warning("%s: the new snapshot was written in full from the chunk store", damage)
            return info
        return self._write_delta(snap, old, change, delta)

    def _delta_for(self, snap: Path, manifest: dict[str, Any], old: IndexInfo, change: Change) -> deltas.Delta | None:
        """The delta that ``change`` makes of the current snapshot, or None when it must be full."""
        rows = base_rows(manifest)
        # Kinds compare as built: "auto" over a base of 100k rows is the "flat" an older index has.
        old_kind = resolved_index(manifest.get("vector_index", "flat"), rows)
        same = (old.embedder, old.dim, old.chunking, old_kind) == (
            change.embedder,
            change.dim,
            change.chunking,
            resolved_index(change.vector_index, rows),
        )
        fresh = sum(len(d.chunks) for d in change.add)
        if not same or not rows or not LexicalIndex.has_stats(snap) or fresh > self.delta_share * rows:
            return None
        current = deltas.read(snap, manifest, rows, old.dim)
        replaced = ({d.doc_id for d in change.add} | set(change.remove)) & set(old.documents)
        kept = deltas.remaining(current, replaced)
        gone = rows_of(snap, replaced)
        tombstones = np.union1d(current.tombstones, np.asarray(gone, dtype=np.int64)).astype(np.int64)
        if len(kept) + fresh + len(tombstones) > self.delta_share * rows:
            return None
        delta = deltas.subset(current, kept)
        delta.tombstones = tombstones
        titles = bool(change.chunking.get("passage_titles"))
        for d in change.add:
            delta.chunks.extend(d.chunks)
            delta.terms.extend(tokenize(c.indexed_text(titles)) for c in d.chunks)
            delta.sentences.extend(d.sentences or [None] * len(d.chunks))
        parts = [delta.vectors] + [d.vectors for d in change.add if len(d.vectors)]
        delta.vectors = np.concatenate(parts).astype(np.float32) if len(parts) > 1 else delta.vectors
        return delta

    def _write_delta(self, snap: Path, old: IndexInfo, change: Change, delta: deltas.Delta) -> IndexInfo:
        docs = self._documents(old, change)
        live = delta.base_rows - len(delta.tombstones) + len(delta.chunks)
        version = snapshot.new_version()
        with snapshot.staging(self.index_dir, version) as tmp:
            deltas.link_base(snap, tmp)
            deltas.write(tmp, delta)
            sizes = {"base_rows": delta.base_rows, "rows": len(delta.chunks), "tombstones": len(delta.tombstones)}
            self._manifest(tmp, version, change, live, docs, {"delta": sizes})
        return IndexInfo(version, change.embedder, change.dim, change.chunking, docs, live, len(docs))

    def _write_full(self, old: IndexInfo | None, change: Change) -> IndexInfo:
        state = LiveState()
        if old is not None:
            carry = old.chunking == change.chunking and bool(change.chunking.get("sentence_vectors"))
            state = LiveState.read(snapshot.current_dir(self.index_dir), old.dim, carry)
        replaced = {d.doc_id for d in change.add} | set(change.remove)
        kept = [i for i, c in enumerate(state.chunks) if c.doc_id not in replaced]
        fresh = [c for d in change.add for c in d.chunks]
        chunks = [state.chunks[i] for i in kept] + fresh
        # BM25 terms of the chunks carried over come from the old snapshot, not from stemming again.
        titles = bool(change.chunking.get("passage_titles"))
        kept_terms = (
            [state.terms[i] for i in kept]
            if state.terms is not None
            else [tokenize(state.chunks[i].indexed_text(titles)) for i in kept]
        )
        terms = kept_terms + [tokenize(c.indexed_text(titles)) for c in fresh]
        sentences: list[Sentences | None] = [state.sentences[i] for i in kept]
        for d in change.add:
            sentences.extend(d.sentences or [None] * len(d.chunks))
        parts = [d.vectors for d in change.add]
        if state.vectors is not None:
            parts.insert(0, state.vectors[kept])
        parts = [p for p in parts if len(p)]
        vectors = np.concatenate(parts) if parts else np.empty((0, change.dim), dtype=np.float32)
        docs = self._documents(old, change)
        version = snapshot.new_version()
        with snapshot.staging(self.index_dir, version) as tmp:
            write_chunks(tmp, zip(chunks, vectors, strict=False), sentences, terms)
            FaissStore.build(vectors, change.vector_index).save(tmp)
            LexicalIndex([c.text for c in chunks], terms).save(tmp)
            self._manifest(tmp, version, change, len(chunks), docs)
        return IndexInfo(version, change.embedder, change.dim, change.chunking, docs, len(chunks), len(docs))

    @staticmethod
    def _documents(old: IndexInfo | None, change: Change) -> dict[str, dict[str, Any]]:
        replaced = {d.doc_id for d in change.add} | set(change.remove)
        docs = {k: v for k, v in (old.documents if old else {}).items() if k not in replaced}
        docs.update({d.doc_id: d.meta for d in change.add})
        return docs

    @staticmethod
    def _manifest(
        tmp: Path,
        version: str,
        change: Change,
        chunks: int,
        docs: dict[str, dict[str, Any]],
        extra: dict[str, Any] | None = None,
    ) -> None:
        snapshot.write_manifest(
            tmp,
            {
                "version": version,
                "embedder": change.embedder,
                "dim": change.dim,
                "chunking": change.chunking,
                "vector_index": change.vector_index,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "chunks": chunks,
                **(extra or {}),
                "documents": dict(sorted(docs.items())),
            },
        )

    def reader(self) -> FaissReader:
        reader = FaissReader.open(
            snapshot.current_dir(self.index_dir), self._base, ef_search=self.ef_search, ivf_share=self.ivf_share
        )
        self._base = reader.base
        return reader

    def close(self) -> None:
        """Nothing to release: readers hold their snapshot in memory."""
        self._base = None


@dataclass
class LiveState:
    """Every live chunk of a snapshot (base rows not tombstoned, then the delta's), in key order."""

    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray | None = None
    terms: list[list[str]] | None = None
    sentences: list[Sentences | None] = field(default_factory=list)

    @classmethod
    def read(cls, snap: Path, dim: int, with_sentences: bool = True) -> LiveState:
        """The chunks, vectors, stored terms and (when asked) sentence vectors of ``snap``."""
        chunks, vectors = read_chunks(snap, with_vectors=True)
        manifest = snapshot.read_manifest(snap)
        if len(chunks) != base_rows(manifest) or (vectors is not None and vectors.shape[1] != dim):
            raise snapshot.corrupt(
                snap / CHUNKS_FILE, f"does not hold the {base_rows(manifest)} chunks of dim {dim} its manifest lists"
            )
        terms = read_terms(snap, len(chunks))
        stored = read_sentences(snap, dim) if with_sentences else {}
        sentences = [stored.get(i) for i in range(len(chunks))]
        delta = deltas.read(snap, manifest, len(chunks), dim)
        if not delta.size:
            return cls(chunks, vectors, terms, sentences)
        live = deltas.live_rows(delta)
        chunks = [chunks[i] for i in live] + delta.chunks
        if vectors is not None:
            vectors = np.concatenate([vectors[live], delta.vectors]) if len(delta.vectors) else vectors[live]
        elif len(delta.vectors):
            vectors = delta.vectors
        if terms is not None:
            terms = [terms[i] for i in live] + delta.terms
        carried = delta.sentences if with_sentences else [None] * len(delta.chunks)
        return cls(chunks, vectors, terms, [sentences[i] for i in live] + carried)
