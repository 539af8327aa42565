"""`rag ingest [PATH ...]`: build or update the index from files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli import add_index_option
from rag.config import VECTOR_INDEXES, Settings
from rag.embed import get_embedder
from rag.errors import IndexError_, IndexMissingError, InputError, NothingToIndexError
from rag.ingest import uploads
from rag.ingest.pipeline import ingest_paths, list_documents
from rag.store.milvus.connect import milvus_uri


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ingest",
        help="build or update the index from .txt/.md/.html/.pdf/.docx files",
        description="Load, chunk and embed documents into the index. Incremental: only new or changed "
        "documents are embedded, and documents whose files were deleted from a PATH directory are "
        "removed (documents from other directories and uploads through the API are left alone). "
        "Unreadable files are reported and skipped. The previous index stays usable if the run is "
        "interrupted, and a rerun reuses the vectors it had made.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="files or directories (default: ./seeds; with --rebuild of an existing index, the documents "
        "it holds, each read again from its own file)",
    )
    add_index_option(p)
    p.add_argument("--chunk-tokens", type=int, help="largest passage in tokens (RAG_CHUNK_TOKENS, default 512)")
    p.add_argument("--chunk-overlap", type=int, help="overlap in sentences (RAG_CHUNK_OVERLAP, default 1)")
    p.add_argument(
        "--vector-index",
        choices=VECTOR_INDEXES,
        help="RAG_VECTOR_INDEX: auto (default; flat below 200,000 chunks, hnsw from there with FAISS), "
        "flat (exact), hnsw, or ivf (an inverted file, FAISS only)",
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="embed everything again (documents from other directories are re-read from their files, "
        "uploads from index/uploads/)",
    )
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="with --rebuild: drop indexed documents that cannot be read again (otherwise the rebuild refuses)",
    )
    p.add_argument(
        "--keep-missing", action="store_true", help="keep documents whose files were deleted from the PATH directories"
    )
    p.add_argument("--if-stale", action="store_true", help="do nothing (quietly) when the index is up to date")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from rag.config import replace

    changes = {k: v for k in ("chunk_tokens", "chunk_overlap", "vector_index") if (v := getattr(args, k)) is not None}
    settings = replace(settings, **changes)
    paths = args.paths or _default_paths(args.rebuild, settings)
    embedder = get_embedder(settings.embedder)
    try:
        report = ingest_paths(
            paths,
            settings,
            embedder,
            progress=not args.quiet,
            rebuild=args.rebuild,
            prune=not args.keep_missing,
            drop_missing=args.drop_missing,
        )
    except NothingToIndexError as exc:
        for err in exc.skipped:
            print(f"skipped: {err.message}", file=sys.stderr)
        if args.if_stale and not exc.skipped:
            return 0  # no files and no index: nothing is stale (an empty seeds/ still lets the server start)
        raise
    for err in report.errors:
        print(f"skipped: {err.message}", file=sys.stderr)
    if not (args.if_stale and report.embedded_chunks == 0 and not report.removed):
        where = settings.index_dir if settings.store == "faiss" else f"milvus at {milvus_uri(settings)}"
        print(f"indexed {report.summary()} -> {where}")
    read = report.unchanged + len(report.added) + len(report.updated)
    return 1 if report.errors and read == 0 else 0


def _default_paths(rebuild: bool, settings: Settings) -> list[Path]:
    """What `rag ingest` reads without a PATH: ./seeds (the working directory's, as `make run` and
    the image have it), but for a rebuild of an existing index nothing: it re-reads what the index
    holds, each document from the file its record names (./seeds would fail outside the project
    directory, or add the seed article to an index built from other files)."""
    if not rebuild:
        return [Path("seeds")]
    try:
        list_documents(settings)
    except IndexMissingError:
        # No index: kept uploads alone are read back from index/uploads/; else there is nothing to rebuild.
        return [] if uploads.stored(settings.index_dir) else [Path("seeds")]
    except IndexError_ as exc:
        damage = exc.message.split(": rebuild with ")[0]  # that advice is what cannot work here
        raise InputError(
            f"{damage}; the index cannot list its documents, so name the files or directories to "
            "rebuild it from: rag ingest --rebuild PATH ..."
        ) from None
    return []
