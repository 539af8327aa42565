"""Ingest: ``load → chunk → embed → index``, incremental and crash-safe.

Documents are compared by the sha256 of their text: unchanged ones carry their chunks and vectors
into the new snapshot without being embedded again, changed ones are re-chunked and re-embedded,
and ones no longer present are dropped. Each run writes a complete new snapshot and swaps it in
atomically (see ``rag.store.faiss.snapshot``), so a run killed at any point leaves the previous index usable,
and the vectors it had already made are kept for the next run (``rag.embed.resume``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed import Embedder
from rag.embed.batch import embed_passages
from rag.embed.resume import ResumeCache
from rag.errors import DocumentError, EmbedderMismatchError, IndexMissingError
from rag.ingest.chunk import chunk_document
from rag.ingest.load import discover, load_path
from rag.store import build_store
from rag.store.faiss import snapshot
from rag.store.faiss.chunks import Sentences, read_chunks, read_sentences, write_chunks
from rag.store.lexical import LexicalIndex
from rag.text.sentences import passage_sentences
from rag.types import Chunk, Document

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest run did."""

    documents: int = 0  # documents in the index afterwards
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_chunks: int = 0
    errors: list[DocumentError] = field(default_factory=list)
    seconds: float = 0.0
    version: str = ""

    def summary(self) -> str:
        """One line for the end of `rag ingest`."""
        return (
            f"{self.documents} documents, {self.chunks} chunks in {self.seconds:.1f}s "
            f"({len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged; {self.embedded_chunks} chunks embedded; {len(self.errors)} skipped)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "embedded_chunks": self.embedded_chunks,
            "errors": [{"path": e.path, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 3),
            "version": self.version,
        }


def _chunking(settings: Settings) -> dict[str, Any]:
    return {
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "sentence_vectors": settings.sentence_vectors,
    }


def _embed_sentences(
    embedder: Embedder, chunks: Sequence[Chunk], progress: bool, resume: ResumeCache
) -> list[Sentences]:
    """Spans and vectors of every chunk's sentences, for answer scoring at question time."""
    spans = [tuple(passage_sentences(c.text)) for c in chunks]
    texts = [c.text[a:b] for c, sp in zip(chunks, spans, strict=True) for a, b in sp]
    vecs = embed_passages(embedder, texts, "embedding sentences", progress, resume)
    out: list[Sentences] = []
    pos = 0
    for sp in spans:
        out.append((sp, vecs[pos : pos + len(sp)]))
        pos += len(sp)
    return out


def _prunable(meta: dict[str, Any], roots: Sequence[Path] | None) -> bool:
    """Whether a document missing from this run may be dropped: any, or only files under ``roots``."""
    if roots is None:
        return True
    path = meta.get("path")
    return isinstance(path, str) and any(Path(path).is_relative_to(r) for r in roots)


def update_index(
    settings: Settings,
    embedder: Embedder,
    add: Iterable[Document] = (),
    remove: Iterable[str] = (),
    keep_only: set[str] | None = None,
    prune_under: Sequence[Path] | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Add or replace ``add``, drop ``remove``, and with ``keep_only`` every other document
    (only those read from files under ``prune_under``, when that is given)."""
    t0 = time.perf_counter()
    report = IngestReport()
    index_dir = settings.index_dir
    with snapshot.writer_lock(index_dir):
        old_docs: dict[str, dict[str, Any]] = {}
        old_chunks: list[Chunk] = []
        old_vecs: np.ndarray | None = None
        old_sents: dict[int, Sentences] = {}
        same_chunking = True
        try:
            old_snap = snapshot.current_dir(index_dir)
        except IndexMissingError:
            old_snap = None
        if old_snap is not None and not rebuild:
            manifest = snapshot.read_manifest(old_snap)
            if manifest["embedder"] != embedder.name:
                raise EmbedderMismatchError(
                    f"the index at {index_dir} was built with embedder {manifest['embedder']!r}, not "
                    f"{embedder.name!r}: use --embedder {manifest['embedder']} or rebuild with --rebuild"
                )
            old_docs = manifest["documents"]
            same_chunking = manifest.get("chunking") == _chunking(settings)
            old_chunks, old_vecs = read_chunks(old_snap, with_vectors=True)
            if same_chunking and settings.sentence_vectors:
                old_sents = read_sentences(old_snap, int(manifest["dim"]))

        new_docs: dict[str, Document] = {}
        for doc in add:
            prev = old_docs.get(doc.doc_id)
            if prev is not None and prev["hash"] == doc.content_hash and same_chunking:
                report.unchanged += 1
                continue
            new_docs[doc.doc_id] = doc
            (report.updated if prev is not None else report.added).append(doc.doc_id)
        drop = set(remove) & set(old_docs)
        if keep_only is not None:
            drop |= {d for d in set(old_docs) - keep_only if _prunable(old_docs[d], prune_under)}
        drop -= set(new_docs)
        report.removed = sorted(drop)
        if not new_docs and not drop and old_snap is not None and not rebuild:
            report.documents, report.chunks = len(old_docs), len(old_chunks)
            report.version = old_snap.name
            report.seconds = time.perf_counter() - t0
            return report

        fresh = [c for d in new_docs.values() for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)]
        resume = ResumeCache(index_dir, embedder.name, embedder.dim)
        try:
            fresh_vecs = embed_passages(embedder, [c.text for c in fresh], "embedding chunks", progress, resume)
            fresh_sents: list[Sentences | None] = (
                list(_embed_sentences(embedder, fresh, progress, resume))
                if settings.sentence_vectors
                else [None] * len(fresh)
            )
        finally:
            resume.close()
        report.embedded_chunks = len(fresh)
        replaced = set(new_docs) | drop
        kept_rows = [i for i, c in enumerate(old_chunks) if c.doc_id not in replaced]
        chunks = [old_chunks[i] for i in kept_rows] + fresh
        sentences = [old_sents.get(i) for i in kept_rows] + fresh_sents
        parts = [fresh_vecs] if old_vecs is None else [old_vecs[kept_rows], fresh_vecs]
        vectors = np.concatenate(parts) if chunks else np.empty((0, embedder.dim), dtype=np.float32)

        docs_meta = {k: v for k, v in old_docs.items() if k not in replaced}
        per_doc = Counter(c.doc_id for c in fresh)
        for d in new_docs.values():
            docs_meta[d.doc_id] = {
                "hash": d.content_hash,
                "source": d.source,
                "title": d.title,
                "chunks": per_doc[d.doc_id],
                "chars": len(d.text),
                **({"pages": len(d.pages)} if d.pages else {}),
                **({"path": d.path} if d.path else {}),
            }
        version = snapshot.new_version()
        with snapshot.staging(index_dir, version) as tmp:
            write_chunks(tmp, zip(chunks, vectors, strict=False), sentences)
            build_store(settings.vector_index, vectors).save(tmp)
            LexicalIndex([c.text for c in chunks]).save(tmp)
            snapshot.write_manifest(
                tmp,
                {
                    "version": version,
                    "embedder": embedder.name,
                    "dim": embedder.dim,
                    "chunking": _chunking(settings),
                    "vector_index": settings.vector_index,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "chunks": len(chunks),
                    "documents": dict(sorted(docs_meta.items())),
                },
            )
        resume.clear()  # the new snapshot holds every vector now
        report.documents, report.chunks, report.version = len(docs_meta), len(chunks), version
    report.seconds = time.perf_counter() - t0
    return report


def ingest_paths(
    paths: Sequence[Path],
    settings: Settings,
    embedder: Embedder,
    progress: bool = True,
    rebuild: bool = False,
    prune: bool = True,
) -> IngestReport:
    """Add or update the readable documents under ``paths``; with ``prune``, drop documents that were
    read from files under a directory in ``paths`` and are gone now. Documents from elsewhere
    (other directories, uploads through the API) are never touched. Bad files are reported."""
    t0 = time.perf_counter()
    docs: dict[str, Document] = {}
    errors: list[DocumentError] = []
    seen: set[str] = set()  # doc ids found on disk, readable or not: an unreadable file keeps its old version
    for path, root in discover(paths):
        doc_id = path.relative_to(root).as_posix()
        seen.add(doc_id)
        try:
            doc = load_path(path, root)
        except DocumentError as exc:
            log.warning("skipped %s", exc.message)
            errors.append(exc)
            continue
        docs[doc.doc_id] = doc
    # When no file could be read (a typo'd type, a .pdf) pruning would empty the index: keep it.
    prune = prune and (bool(docs) or not errors)
    roots = [p.resolve() for p in paths if p.is_dir()]
    report = update_index(
        settings,
        embedder,
        add=docs.values(),
        keep_only=seen if prune else None,
        prune_under=roots,
        rebuild=rebuild,
        progress=progress,
    )
    report.errors = errors
    report.seconds = time.perf_counter() - t0
    return report


def list_documents(index_dir: Path) -> list[dict[str, Any]]:
    """The documents in the live snapshot: doc_id, source, title, chunks, chars, hash."""
    manifest = snapshot.read_manifest(snapshot.current_dir(index_dir))
    return [{"doc_id": k, **v} for k, v in manifest["documents"].items()]
