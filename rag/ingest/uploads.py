"""Uploaded files are documents: their bytes are kept under ``index/uploads/``.

An index snapshot holds chunks and vectors, not the files they came from. Files on disk can be read
again, but a document uploaded through the API exists nowhere else, so its bytes are kept here and
every ingest run merges them back in: ``rag ingest --rebuild``, another embedder or another
chunking re-ingest them like any file, and an index rebuilt from nothing gets them back.

Layout: ``uploads/<key>.bin`` holds the bytes and ``uploads/<key>.json`` names the document
(``doc_id``, ``sha256`` of the bytes, ``text_hash`` of the decoded text). ``key`` is the sha256 of
the doc_id, so any name (long, Cyrillic, with dots or separators) maps to a short, safe file name.
Each file is written under a temporary name, fsynced and renamed into place; the JSON is written
after the bytes and removed before them, so a JSON always names complete bytes. A crash leaves at
worst a ``.bin`` without its JSON, which is ignored and swept. Callers hold the index's writer lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from rag.errors import DocumentError
from rag.ingest.load import load_bytes
from rag.store.faiss.snapshot import fsync_dir
from rag.types import Document

log = logging.getLogger(__name__)

DIRNAME = "uploads"


def _key(doc_id: str) -> str:
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]


def _paths(index_dir: Path, doc_id: str) -> tuple[Path, Path]:
    base = index_dir / DIRNAME / _key(doc_id)
    return base.with_suffix(".bin"), base.with_suffix(".json")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save(index_dir: Path, doc: Document, data: bytes) -> None:
    """Keep ``data``, the uploaded file that ``doc`` was read from (replacing an earlier upload)."""
    folder = index_dir / DIRNAME
    folder.mkdir(parents=True, exist_ok=True)
    blob, meta = _paths(index_dir, doc.doc_id)
    info = {"doc_id": doc.doc_id, "sha256": hashlib.sha256(data).hexdigest(), "text_hash": doc.content_hash}
    meta.unlink(missing_ok=True)  # while the bytes change, no JSON may vouch for them
    _write_atomic(blob, data)
    _write_atomic(meta, json.dumps(info, ensure_ascii=False).encode("utf-8"))
    fsync_dir(folder)


def delete(index_dir: Path, doc_id: str) -> bool:
    """Forget the upload called ``doc_id``; False if there was none."""
    blob, meta = _paths(index_dir, doc_id)
    existed = meta.exists()
    meta.unlink(missing_ok=True)
    blob.unlink(missing_ok=True)
    if existed:
        fsync_dir(meta.parent)
    return existed


def _info(meta: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("doc_id"), str) else None


def read(index_dir: Path, doc_id: str) -> bytes | None:
    """The kept bytes of upload ``doc_id``, or None (none kept, or they fail their checksum)."""
    blob, meta = _paths(index_dir, doc_id)
    info = _info(meta)
    if info is None or info["doc_id"] != doc_id:
        return None
    try:
        data = blob.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != info.get("sha256"):
        log.warning("upload %r in %s fails its checksum; ignored", doc_id, meta.parent)
        return None
    return data


def stored(index_dir: Path) -> dict[str, str]:
    """Every kept upload: doc_id -> hash of its decoded text."""
    folder = index_dir / DIRNAME
    if not folder.is_dir():
        return {}
    found = {}
    for meta in sorted(folder.glob("*.json")):
        info = _info(meta)
        if info is not None and meta.stem == _key(info["doc_id"]):
            found[info["doc_id"]] = str(info.get("text_hash", ""))
    return found


def documents(
    index_dir: Path, skip: Iterable[str], known: Mapping[str, str]
) -> tuple[list[Document], list[DocumentError]]:
    """The kept uploads as Documents, except those in ``skip`` and those whose text hash ``known``
    already maps them to (unchanged in the index); uploads that no longer load are reported."""
    skipped = set(skip)
    docs, errors = [], []
    for doc_id, text_hash in stored(index_dir).items():
        if doc_id in skipped or known.get(doc_id) == text_hash:
            continue
        data = read(index_dir, doc_id)
        if data is None:
            errors.append(DocumentError(doc_id, "the kept upload is unreadable; upload it again"))
            continue
        try:
            docs.append(load_bytes(doc_id, data))
        except DocumentError as exc:
            errors.append(exc)
    return docs, errors


@contextlib.contextmanager
def change(index_dir: Path, put: Mapping[str, tuple[Document, bytes]], drop: Iterable[str]) -> Iterator[None]:
    """Keep the uploads in ``put`` now and forget those in ``drop`` when the block succeeds; if it
    fails, put back the uploads it replaced, so the kept files always match a working index."""
    before = {doc_id: read(index_dir, doc_id) for doc_id in put}
    try:
        for doc, data in put.values():
            save(index_dir, doc, data)
        yield
    except BaseException:
        for doc_id, old in before.items():
            if old is None:
                delete(index_dir, doc_id)
            else:
                save(index_dir, load_bytes(doc_id, old), old)
        raise
    for doc_id in drop:
        delete(index_dir, doc_id)


def sweep(index_dir: Path) -> None:
    """Remove temporary files and bytes no JSON names (left by a crash mid-write)."""
    folder = index_dir / DIRNAME
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        orphan = f.suffix == ".bin" and not f.with_suffix(".json").exists()
        if f.name.startswith(".tmp-") or orphan:
            f.unlink(missing_ok=True)
