"""`rag migrate --to milvus`: move the FAISS index into another store without embedding again.

The FAISS snapshot holds everything a store needs: every document's record (content hash, source,
title, path), its chunks, their vectors and sentence vectors, and the chunking and embedder it was
built with. They are written to the target through the same ``Change`` seam ingest uses, so the
target computes its own lexical statistics; nothing is embedded. One write by default, so BM25
scores equal the source's exactly; ``--batch N`` writes N documents at a time to bound the
target's memory, at the price Milvus's later writes pay anyway (each write's stored document side
keeps the average length of its own batch, docs/store.md). The first write empties the target
(``--replace`` is required when it already holds an index). Kept
uploads stay where they are (``<index>/uploads/``), so later ingests with ``RAG_STORE=milvus`` and
the same ``RAG_INDEX_DIR`` keep merging them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from rag.config import Settings, ingest_command, replace
from rag.errors import InputError, StorageError
from rag.store import BACKENDS, Change, DocumentRows, open_store
from rag.store.faiss import snapshot
from rag.store.faiss.backend import FaissBackend, LiveState
from rag.types import Chunk


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "migrate",
        help="copy the FAISS index into another store (Milvus) without embedding again",
        description="Copy every document of the FAISS index in --index (chunks, vectors, sentence vectors, "
        "records) into the store named by --to, in batches, then check that the target holds the same "
        "documents and chunks. Nothing is embedded; kept uploads stay in <index>/uploads/.",
    )
    p.add_argument("--to", required=True, choices=sorted(b for b in BACKENDS if b != "faiss"), help="target store")
    p.add_argument("--index", dest="index_dir", metavar="DIR", help="the FAISS index (RAG_INDEX_DIR, default: index/)")
    p.add_argument("--milvus-uri", help="target Milvus: a local path (Lite) or http://host:port (RAG_MILVUS_URI)")
    p.add_argument("--collection", help="prefix of the target collections (RAG_MILVUS_COLLECTION, default: rag)")
    p.add_argument("--replace", action="store_true", help="empty a target that already holds an index")
    p.add_argument(
        "--batch", type=int, default=0, help="documents per write (default 0: all in one write, exact BM25 scores)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _documents(chunks: Sequence[Chunk]) -> list[tuple[str, list[int]]]:
    """(doc_id, its chunk rows in order) for every document, in the snapshot's row order."""
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        rows.setdefault(c.doc_id, []).append(i)
    return list(rows.items())


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch < 0:
        raise InputError("--batch must be 0 (one write) or more")
    faiss = replace(settings, store="faiss")
    source = FaissBackend(faiss)
    info = source.info()
    if info is None:
        builds = ingest_command(faiss)
        raise InputError(f"no FAISS index in {settings.index_dir}: nothing to migrate ({builds} builds one)")
    snap = snapshot.current_dir(settings.index_dir)
    manifest = snapshot.read_manifest(snap)
    state = LiveState.read(snap, info.dim)
    chunks, sentences = state.chunks, state.sentences
    vectors = state.vectors if state.vectors is not None else np.zeros((0, info.dim), dtype=np.float32)
    overrides: dict[str, object] = {"store": args.to}
    # Milvus has no inverted file of fast-scan codes: an ivf index moves as its graph, HNSW.
    kind = str(manifest.get("vector_index") or settings.vector_index)
    if args.to == "milvus" and kind == "ivf":
        kind = "hnsw"
    if args.to == "milvus" and settings.vector_index == "ivf":
        overrides["vector_index"] = "hnsw"
    if args.milvus_uri:
        overrides["milvus_uri"] = args.milvus_uri
    if args.collection:
        overrides["milvus_collection"] = args.collection
    target_settings = replace(settings, **overrides)
    target = open_store(target_settings)
    try:
        existing = target.info()
        if existing is not None and existing.document_count and not args.replace:
            raise InputError(
                f"{target.location} already holds an index of {existing.document_count} documents: "
                "pass --replace to empty it first"
            )
        docs = _documents(chunks)
        size = args.batch or max(len(docs), 1)
        bar = tqdm(total=len(chunks), unit="chunk", desc="migrating", disable=args.no_progress)
        with target.writing():
            for start in range(0, max(len(docs), 1), size):
                batch = docs[start : start + size]
                add = [
                    DocumentRows(
                        doc_id,
                        info.documents[doc_id],
                        [chunks[i] for i in rows],
                        vectors[rows],
                        [sentences[i] for i in rows],
                    )
                    for doc_id, rows in batch
                ]
                change = Change(
                    info.embedder,
                    info.dim,
                    info.chunking,
                    kind,
                    add=add,
                    reset=start == 0,
                )
                target.write(change)
                bar.update(sum(len(rows) for _, rows in batch))
        bar.close()
        got = target.info()
    finally:
        target.close()
    if got is None or got.document_count != info.document_count or got.chunks != info.chunks:
        found = "nothing" if got is None else f"{got.document_count} documents, {got.chunks} chunks"
        raise StorageError(f"migration incomplete: {target.location} holds {found}, the source {info.chunks} chunks")
    print(
        f"migrated {info.document_count} documents, {info.chunks} chunks ({info.embedder}) "
        f"from {settings.index_dir} to {args.to} at {target.location}; serve with RAG_STORE={args.to}"
        + (f" RAG_MILVUS_URI={args.milvus_uri}" if args.milvus_uri else "")
    )
    return 0
