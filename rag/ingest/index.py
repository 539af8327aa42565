"""The index step of an ingest: apply a change of documents (added, replaced, removed, or pruned
from a directory) to the store, embedding only what is new.

Documents are compared by the sha256 of their text: unchanged ones carry their chunks and vectors
into the new version without being embedded again, changed ones are re-chunked and re-embedded,
and ones no longer present are dropped. The store applies the change so that a run killed at any
point leaves the previous index usable (FAISS: a new snapshot swapped in atomically; Milvus: new
rows first, old rows deleted after; see ``rag.store``), and the vectors the run had already made
are kept for the next run (``rag.embed.resume``). Uploads kept with the index (``uploads``) are
merged into every change.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.embed import Embedder, mismatch, token_counter
from rag.embed.batch import embed_passages
from rag.embed.resume import ResumeCache
from rag.errors import StorageError
from rag.ingest import uploads
from rag.ingest.chunk import CHUNKER, chunk_document, reporting
from rag.ingest.embed import document_rows, embed_sentences
from rag.ingest.report import IngestReport
from rag.store import Change, Sentences, Store, open_store
from rag.types import Document

# Told what an ingest is doing: (stage, done, total), e.g. ("embedding chunks", 160, 319).
StageProgress = Callable[[str, int, int], None]


def _chunking(settings: Settings) -> dict[str, Any]:
    return {
        "chunker": CHUNKER,
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap": settings.chunk_overlap,
        "sentence_vectors": settings.sentence_vectors,
        "passage_titles": settings.passage_titles,
        "sentence_titles": settings.passage_titles,  # sentences embedded under their title (same language)
    }


def prunable(meta: dict[str, Any], roots: Sequence[Path] | None) -> bool:
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
                raise mismatch(store.location, old.embedder, embedder.name, settings)
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
            drop |= {d for d in set(old_docs) - keep_only if prunable(old_docs[d], prune_under)}
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
                    embed_sentences(
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
        rows = document_rows(new_docs, fresh, fresh_vecs, fresh_sents)
        change = Change(
            embedder.name, embedder.dim, _chunking(settings), settings.vector_index, rows, frozenset(drop), rebuild
        )
        stage("writing index", 0, 1)
        info = store.write(change)
        resume.clear()  # the store holds every vector now
        report.documents, report.chunks, report.version = info.document_count, info.chunks, info.version
    report.seconds = time.perf_counter() - t0
    return report
