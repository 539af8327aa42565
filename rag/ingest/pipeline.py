"""Ingest: ``load → chunk → embed → index``, incremental and crash-safe.

``ingest_paths`` reads files and directories (``load``) and hands the documents to
``update_index`` (``rag.ingest.index``: chunk, embed only what changed, write the store);
``list_documents`` lists what the index holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings, ingest_command
from rag.embed import Embedder
from rag.errors import DocumentError, IndexError_, IndexMissingError, InputError, NothingToIndexError
from rag.ingest import uploads
from rag.ingest.index import StageProgress, prunable, update_index
from rag.ingest.load import SUPPORTED, discover, load_path
from rag.ingest.rebuild import carry_over
from rag.ingest.report import IngestReport
from rag.store import Store, open_store
from rag.types import Document

__all__ = ["IngestReport", "StageProgress", "ingest_paths", "list_documents", "update_index"]

log = logging.getLogger(__name__)


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
        carried, lost = carry_over(settings, set(docs), seen, lambda meta: prune and prunable(meta, roots), store)
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
        raise IndexMissingError(f"no index at {store.location}: build it with {ingest_command(settings)}")
    return [{"doc_id": k, **v} for k, v in sorted(info.documents.items())]
