"""Crash-safe index directories.

Layout of ``index/``::

    CURRENT                 name of the live snapshot (replaced atomically)
    snapshots/<version>/    manifest.json, chunks.sqlite, vectors.faiss
    .lock                   held while a writer builds a snapshot

A writer builds a complete snapshot in ``snapshots/.tmp-<version>``, fsyncs it, renames it into
place, then points ``CURRENT`` at it with ``os.replace``. A process killed at any moment leaves
``CURRENT`` naming a complete snapshot; half-built ``.tmp-*`` directories are swept by the next
writer. The previous snapshot is kept, so a reader that resolved ``CURRENT`` just before a swap can
still open it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.config import Settings, ingest_command
from rag.errors import IndexCorruptError, IndexMissingError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1


def ingest(index_dir: Path, *flags: str) -> str:
    """The `rag ingest` command, with ``flags``, that acts on the FAISS index in ``index_dir``."""
    return ingest_command(Settings(index_dir=index_dir, store="faiss"), *flags)


def rebuild_advice(index_dir: Path) -> str:
    """How to mend the damaged index in ``index_dir``."""
    return f"rebuild with {ingest(index_dir, '--rebuild')}"


def index_of(path: Path) -> Path:
    """The index directory holding ``path``: ``CURRENT``'s, or the one whose ``snapshots/`` holds it."""
    if path.name != "CURRENT":
        for parent in path.parents:
            if parent.name == "snapshots":
                return parent.parent
    return path.parent


def corrupt(path: Path, what: str, exc: BaseException | None = None) -> IndexCorruptError:
    """The error for a damaged index file: what is wrong and how to mend it. The library's own
    words (SQLite's, a C++ trace from faiss) say nothing a user can act on: they go to the debug log."""
    if exc is not None:
        log.debug("%s: %s", path, exc)
    return IndexCorruptError(f"{path} {what}: {rebuild_advice(index_of(path))}")


def current_dir(index_dir: Path) -> Path:
    """The live snapshot directory, or IndexMissingError."""
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        raise IndexMissingError(f"no index at {index_dir}: build it with {ingest(index_dir)}")
    name = pointer.read_text(encoding="utf-8").strip()
    snap = index_dir / "snapshots" / name
    if not name or not snap.is_dir():
        raise corrupt(pointer, f"names snapshot {name!r}, which does not exist")
    return snap


def read_manifest(snap: Path) -> dict[str, Any]:
    """The manifest of a snapshot directory."""
    try:
        manifest = json.loads((snap / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise corrupt(snap / MANIFEST, "is unreadable", exc) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise corrupt(snap / MANIFEST, "has an unknown format")
    return manifest


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Serialise writers (other processes and threads) on one index directory."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_version() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staging(index_dir: Path, version: str) -> Iterator[Path]:
    """A temporary snapshot directory; on clean exit it becomes the live snapshot."""
    snaps = index_dir / "snapshots"
    snaps.mkdir(parents=True, exist_ok=True)
    for stale in snaps.glob(".tmp-*"):  # left by a killed writer; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    tmp = snaps / f".tmp-{version}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for f in sorted(tmp.rglob("*"), reverse=True):  # files before the directories holding them
        if f.is_dir():
            fsync_dir(f)
        else:
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    final = snaps / version
    os.rename(tmp, final)
    fsync_dir(snaps)
    pointer_tmp = index_dir / f".CURRENT.{version}"
    with open(pointer_tmp, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    fsync_dir(index_dir)
    _prune(snaps, keep={version})


def _prune(snaps: Path, keep: set[str], spare: int = 1) -> None:
    """Drop old snapshots, keeping the newest ``spare`` besides ``keep`` for in-flight readers."""
    old = sorted(
        (p for p in snaps.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in keep),
        key=lambda p: p.name,
        reverse=True,
    )
    for p in old[spare:]:
        shutil.rmtree(p, ignore_errors=True)


def write_manifest(snap: Path, manifest: dict[str, Any]) -> None:
    (snap / MANIFEST).write_text(
        json.dumps({"format": FORMAT, **manifest}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
