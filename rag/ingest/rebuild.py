"""What a rebuild must bring back: the documents of the live index that this run did not read.

``rag ingest --rebuild`` embeds everything from scratch, so any document it does not read again
would vanish from the index. Kept uploads are merged back by ``rag.ingest.uploads``; documents read
from files outside this run's paths are read again from the file they came from. Whatever cannot
be brought back (its file is gone or unreadable, or it was uploaded before uploads were kept) is
named, and the rebuild refuses to drop it unless asked to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import DocumentError, IndexError_
from rag.ingest import uploads
from rag.ingest.load import load_path
from rag.store import Store, open_store
from rag.types import Document


def carry_over(
    settings: Settings,
    read: Collection[str],
    seen: Collection[str],
    pruned: Callable[[dict[str, Any]], bool],
    store: Store | None = None,
) -> tuple[list[Document], list[str]]:
    """(documents read again from their files, ids that cannot be brought back) for a rebuild.

    ``read``: ids this run read; ``seen``: ids it found on disk, readable or not; ``pruned(meta)``:
    whether a document's file was deleted from one of this run's directories (dropped as usual)."""
    own = store is None
    store = store or open_store(settings)
    try:
        info = store.info()
    except IndexError_:  # an index too broken to list: nothing to compare with
        info = None
    finally:
        if own:
            store.close()
    if info is None:
        return [], []
    kept = uploads.stored(settings.index_dir)
    docs: list[Document] = []
    lost: list[str] = []
    for doc_id, meta in info.documents.items():
        if doc_id in read or doc_id in kept:
            continue
        if doc_id in seen:
            lost.append(doc_id)  # its file is there but no longer reads
            continue
        if pruned(meta):
            continue
        path = meta.get("path")
        try:
            if not path:
                raise DocumentError(doc_id, "no file to read it from")
            doc = load_path(Path(path))
        except DocumentError:
            lost.append(doc_id)
            continue
        docs.append(dataclasses.replace(doc, doc_id=doc_id, source=str(meta.get("source", doc.source))))
    return docs, sorted(lost)
