"""Ingest: ``load → chunk → embed → index``, incremental and crash-safe.

Documents are compared by the sha256 of their text: unchanged ones carry their chunks and vectors
into the new snapshot without being embedded again, changed ones are re-chunked and re-embedded,
and ones no longer present are dropped. The store applies the change so that a run killed at any
point leaves the previous index usable (FAISS: a new snapshot swapped in atomically; Milvus: new
rows first, old rows deleted after; see ``rag.store``), and the vectors the run had already made
are kept for the next run (``rag.embed.resume``).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed import Embedder, mismatch, token_counter
from rag.embed.batch import Progress, embed_passages
from rag.embed.resume import ResumeCache
from rag.errors import (
    DocumentError,
    IndexError_,
    IndexMissingError,
    InputError,
    NothingToIndexError,
    StorageError,
)
from rag.ingest import uploads
from rag.ingest.chunk import CHUNKER, chunk_document, reporting
from rag.ingest.load import SUPPORTED, discover, load_path
from rag.ingest.rebuild import carry_over
from rag.store import Change, DocumentRows, Sentences, Store, open_store
from rag.text.sentences import passage_sentences
from rag.types import Chunk, Document

log = logging.getLogger(__name__)

# Told what an ingest is doing: (stage, done, total), e.g. ("embedding chunks", 160, 319).
StageProgress = Callable[[str, int, int], None]


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
        "chunker": CHUNKER,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "sentence_vectors": settings.sentence_vectors,
        "passage_titles": settings.passage_titles,
        "sentence_titles": settings.passage_titles,  # sentences embedded under their title (same language)
    }


def _embed_sentences(
    embedder: Embedder,
    chunks: Sequence[Chunk],
    titles: bool,
    progress: bool,
    resume: ResumeCache,
    on_batch: Progress | None,
) -> list[Sentences]:
    """Spans and vectors of every chunk's sentences (each under its passage's title, see
    ``Chunk.sentence_text``), for search and answer scoring at question time."""
    spans = [tuple(passage_sentences(c.text)) for c in chunks]
    texts = [c.sentence_text(a, b, titles) for c, sp in zip(chunks, spans, strict=True) for a, b in sp]
    vecs = embed_passages(embedder, texts, "embedding sentences", progress, resume, on_batch)
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
    uploaded: Mapping[str, bytes] | None = None,
    store: Store | None = None,
    on_progress: StageProgress | None = None,
) -> IngestReport:
    """Add or replace ``add``, drop ``remove``, and with ``keep_only`` every other document
    (only those read from files under ``prune_under``, when that is given). ``uploaded`` holds the
    file bytes of documents in ``add`` that came through the API: they are kept with the index
    (``rag.ingest.uploads``), and every run merges the kept uploads back in. Writes to ``store``,
    or to the one the settings name (opened and closed here). ``on_progress`` hears each stage
    (the API's upload jobs report it)."""
    if store is None:
        own = open_store(settings)
        try:
            return update_index(
                settings, embedder, add, remove, keep_only, prune_under, rebuild, progress, uploaded, own, on_progress
            )
        finally:
            own.close()
    try:
        return _update_index(
            settings,
            embedder,
            list(add),
            list(remove),
            keep_only,
            prune_under,
            rebuild,
            progress,
            uploaded,
            store,
            on_progress,
        )
    except (OSError, sqlite3.OperationalError) as exc:  # sqlite says "database or disk is full"
        # Every write goes to a new snapshot or a temporary file first: the live index is untouched.
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
        raise StorageError(
            f"cannot write the index at {store.location}: {reason}; the previous index is intact"
        ) from exc


def _update_index(
    settings: Settings,
    embedder: Embedder,
    add: list[Document],
    remove: list[str],
    keep_only: set[str] | None,
    prune_under: Sequence[Path] | None,
    rebuild: bool,
    progress: bool,
    uploaded: Mapping[str, bytes] | None,
    store: Store,
    on_progress: StageProgress | None = None,
) -> IngestReport:
    t0 = time.perf_counter()
    stage = on_progress or (lambda name, done, total: None)
    report = IngestReport()
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)  # uploads and the resume cache live here, whatever the store
    put = {d.doc_id: (d, uploaded[d.doc_id]) for d in add if uploaded and d.doc_id in uploaded}
    with store.writing(), uploads.change(index_dir, put, drop=remove):
        uploads.sweep(index_dir)
        kept_uploads = uploads.stored(index_dir)
        # Pruning needs every record; an upload or a delete only the records it touches.
        asked = None if keep_only is not None else {d.doc_id for d in add} | set(remove) | set(kept_uploads)
        old = None if rebuild else store.info(asked)
        old_docs: dict[str, dict[str, Any]] = {}
        same_chunking = True
        if old is not None:
            if old.embedder != embedder.name:
                raise mismatch(store.location, old.embedder, embedder.name)
            old_docs = old.documents
            same_chunking = old.chunking == _chunking(settings)

        kept, report.errors = uploads.documents(
            index_dir,
            skip={d.doc_id for d in add} | set(remove),
            known={k: v["hash"] for k, v in old_docs.items()} if same_chunking else {},
        )
        new_docs: dict[str, Document] = {}
        for doc in [*add, *kept]:
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
        if not new_docs and not drop and old is not None:
            report.documents, report.chunks, report.version = old.document_count, old.chunks, old.version
            report.seconds = time.perf_counter() - t0
            return report

        stage("chunking", 0, len(new_docs))
        count, window = token_counter(embedder)
        budget = min(settings.chunk_tokens, window)
        fresh = []
        for i, doc in enumerate(new_docs.values()):
            heeding = reporting(count, partial(stage, "chunking", i, len(new_docs)))
            fresh.extend(chunk_document(doc, budget, settings.chunk_overlap, heeding))
        resume = ResumeCache(index_dir, embedder.name, embedder.dim)
        try:
            fresh_vecs = embed_passages(
                embedder,
                [c.indexed_text(settings.passage_titles) for c in fresh],
                "embedding chunks",
                progress,
                resume,
                lambda done, total: stage("embedding chunks", done, total),
            )
            fresh_sents: list[Sentences | None] = (
                list(
                    _embed_sentences(
                        embedder,
                        fresh,
                        settings.passage_titles,
                        progress,
                        resume,
                        lambda done, total: stage("embedding sentences", done, total),
                    )
                )
                if settings.sentence_vectors
                else [None] * len(fresh)
            )
        finally:
            resume.close()
        report.embedded_chunks = len(fresh)
        rows = _rows(new_docs, fresh, fresh_vecs, fresh_sents)
        change = Change(
            embedder.name, embedder.dim, _chunking(settings), settings.vector_index, rows, frozenset(drop), rebuild
        )
        stage("writing index", 0, 1)
        info = store.write(change)
        resume.clear()  # the store holds every vector now
        report.documents, report.chunks, report.version = info.document_count, info.chunks, info.version
    report.seconds = time.perf_counter() - t0
    return report


def _rows(
    docs: dict[str, Document], chunks: Sequence[Chunk], vectors: np.ndarray, sentences: Sequence[Sentences | None]
) -> list[DocumentRows]:
    """The fresh chunks grouped by document, with each document's record for the manifest."""
    by_doc: dict[str, list[int]] = {d: [] for d in docs}
    for i, c in enumerate(chunks):
        by_doc[c.doc_id].append(i)
    out = []
    for doc_id, rows in by_doc.items():
        d = docs[doc_id]
        meta = {
            "hash": d.content_hash,
            "source": d.source,
            "title": d.title,
            "chunks": len(rows),
            "chars": len(d.text),
            **({"pages": len(d.pages)} if d.pages else {}),
            **({"path": d.path} if d.path else {}),
        }
        vecs = vectors[rows] if rows else np.empty((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
        out.append(DocumentRows(doc_id, meta, [chunks[i] for i in rows], vecs, [sentences[i] for i in rows]))
    return out


def ingest_paths(
    paths: Sequence[Path],
    settings: Settings,
    embedder: Embedder,
    progress: bool = True,
    rebuild: bool = False,
    prune: bool = True,
    drop_missing: bool = False,
    store: Store | None = None,
) -> IngestReport:
    """Add or update the readable documents under ``paths``; with ``prune``, drop documents that were
    read from files under a directory in ``paths`` and are gone now. Documents from elsewhere
    (other directories, uploads through the API) are never touched. Bad files are reported.

    With ``rebuild``, documents from elsewhere are read again from their files; one that cannot be
    is an InputError naming it, unless ``drop_missing`` says to drop it."""
    t0 = time.perf_counter()
    docs: dict[str, Document] = {}
    errors: list[DocumentError] = []
    seen: set[str] = set()  # doc ids found on disk, readable or not: an unreadable file keeps its old version
    for path, root in discover(paths, errors):
        doc_id = path.relative_to(root).as_posix()
        seen.add(doc_id)
        try:
            doc = load_path(path, root)
        except DocumentError as exc:
            errors.append(exc)
            continue
        docs[doc.doc_id] = doc
    for problem in errors:
        log.info("skipped %s", problem.message)  # the caller reports them (`rag ingest` prints each once)
    # When no file could be read (a typo'd type, a .pdf) pruning would empty the index: keep it. A
    # directory that could not be listed hides which of its documents still exist: keep them all.
    prune = prune and (bool(docs) or not errors) and not any(e.listing for e in errors)
    roots = [p.resolve() for p in paths if p.is_dir()]
    if rebuild:
        carried, lost = carry_over(settings, set(docs), seen, lambda meta: prune and _prunable(meta, roots), store)
        if lost and not drop_missing:
            names = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
            raise InputError(
                f"--rebuild would drop {len(lost)} document(s) that cannot be read again: {names}; "
                "pass --drop-missing to rebuild without them"
            )
        if lost:
            log.warning("rebuild drops %d document(s): %s", len(lost), ", ".join(lost))
        docs.update((d.doc_id, d) for d in carried)
    if not docs and not _has_index(settings, store):
        # An index of nothing would only hide the mistake (a wrong directory, files of the wrong
        # type) behind "indexed 0 documents"; an existing index is still updated (and pruned).
        where = ", ".join(str(p) for p in paths)
        if errors:
            why = f"no document could be read from {where}"
        else:
            why = f"no {', '.join(SUPPORTED[:-1])} or {SUPPORTED[-1]} file in {where}: nothing to index"
        raise NothingToIndexError(f"{why}; no index was written", errors)
    report = update_index(
        settings,
        embedder,
        add=docs.values(),
        keep_only=seen if prune else None,
        prune_under=roots,
        rebuild=rebuild,
        progress=progress,
        store=store,
    )
    report.errors = errors + report.errors
    report.seconds = time.perf_counter() - t0
    return report


def _has_index(settings: Settings, store: Store | None) -> bool:
    """Whether an ingest would update something: an index (even a damaged one) or kept uploads."""
    if uploads.stored(settings.index_dir):
        return True
    own = store is None
    store = store or open_store(settings)
    try:
        return store.info(set()) is not None
    except IndexError_:  # there but damaged: the ingest itself says how
        return True
    finally:
        if own:
            store.close()


def list_documents(settings: Settings, store: Store | None = None) -> list[dict[str, Any]]:
    """The documents in the index: doc_id, source, title, chunks, chars, hash (IndexMissingError if none)."""
    own = store is None
    store = store or open_store(settings)
    try:
        info = store.info()
    finally:
        if own:
            store.close()
    if info is None:
        raise IndexMissingError(f"no index at {store.location}: build it with `rag ingest`")
    return [{"doc_id": k, **v} for k, v in sorted(info.documents.items())]
