"""Delta segments: a write whose cost follows the change, not the corpus.

A full snapshot holds one segment (``chunks.sqlite``, ``vectors.faiss``, ``bm25/``), built from
every chunk. A small write (an upload, a delete) instead makes a snapshot that hard-links those
base files from the previous snapshot and writes only ``delta.sqlite``: the chunks added since
the base was built (with their vectors, sentence vectors and BM25 terms) and the base rows
deleted or replaced since (tombstones). Keys are base rows ``0..N-1``, then delta rows from ``N``.

Crash safety is the snapshot's: the new snapshot is complete in its staging directory before
``CURRENT`` moves, and base files are only ever linked, never written again, so pruning an old
snapshot removes links, not data. A serving process that already holds a base keeps it when the
next snapshot links the same files (``Base.identity``), so it reloads only the delta.

When a write would leave more than ``DELTA_SHARE`` of the base in the delta and tombstones, it
compacts into a full snapshot instead: the delta is searched by brute force and its BM25 uses the
base's average length, both fine while it stays small (docs/store.md).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.store.base import Sentences
from rag.store.faiss import chunks as chunk_store
from rag.store.faiss import vectors as vector_store
from rag.store.faiss.snapshot import corrupt
from rag.store.lexical import BM25_DIR
from rag.types import Chunk

FILENAME = "delta.sqlite"
BASE_FILES = (chunk_store.FILENAME, vector_store.FILENAME, BM25_DIR)
DELTA_SHARE = 0.1  # delta rows plus tombstones, as a share of the base, past which a write compacts


@dataclass
class Delta:
    """What a snapshot holds beyond its base segment."""

    base_rows: int
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    sentences: list[Sentences | None] = field(default_factory=list)
    terms: list[list[str]] = field(default_factory=list)
    tombstones: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted base rows

    @property
    def size(self) -> int:
        """Rows a reader handles outside the base: what compaction is weighed on."""
        return len(self.chunks) + len(self.tombstones)


def read(snap: Path, manifest: Mapping[str, Any], base_rows: int, dim: int) -> Delta:
    """The delta of a snapshot (an empty one when it has none); IndexCorruptError when it is not
    the one the snapshot's ``manifest`` declares (missing, or other row and tombstone counts)."""
    declared = manifest.get("delta") or {}
    expected = (int(declared.get("rows", 0)), int(declared.get("tombstones", 0)))
    if not (snap / FILENAME).exists():
        if any(expected):
            raise corrupt(
                snap / FILENAME, f"is missing (the manifest lists {expected[0]} added chunks and {expected[1]} deleted)"
            )
        return Delta(base_rows, vectors=np.zeros((0, dim), dtype=np.float32))
    found, vecs = chunk_store.read_chunks(snap, with_vectors=True, filename=FILENAME)
    terms = chunk_store.read_terms(snap, len(found), filename=FILENAME)
    sents = chunk_store.read_sentences(snap, dim, filename=FILENAME)
    try:
        con = sqlite3.connect(f"file:{snap / FILENAME}?mode=ro", uri=True)
        try:
            tomb = [int(r[0]) for r in con.execute("SELECT row FROM tombstones ORDER BY row")]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise corrupt(snap / FILENAME, "holds damaged tombstones", exc) from None
    counts = (len(found), len(tomb))
    if terms is None or (tomb and not 0 <= tomb[0] <= tomb[-1] < base_rows) or (declared and counts != expected):
        raise corrupt(snap / FILENAME, "is inconsistent")
    return Delta(
        base_rows,
        found,
        vecs if vecs is not None else np.zeros((0, dim), dtype=np.float32),
        [sents.get(i) for i in range(len(found))],
        terms,
        np.asarray(tomb, dtype=np.int64),
    )


def write(directory: Path, delta: Delta) -> None:
    """Write ``delta.sqlite`` into a staging snapshot."""
    chunk_store.write_chunks(
        directory,
        zip(delta.chunks, delta.vectors, strict=True),
        delta.sentences,
        delta.terms,
        filename=FILENAME,
    )
    con = sqlite3.connect(directory / FILENAME)
    try:
        con.execute("CREATE TABLE tombstones (row INTEGER PRIMARY KEY)")
        con.executemany("INSERT INTO tombstones VALUES (?)", ((int(r),) for r in delta.tombstones))
        con.commit()
    finally:
        con.close()


def link_base(src: Path, dst: Path) -> None:
    """Hard-link the base files of snapshot ``src`` into staging snapshot ``dst``."""
    for name in BASE_FILES:
        path = src / name
        if path.is_dir():
            (dst / name).mkdir()
            for f in path.iterdir():
                os.link(f, dst / name / f.name)
        elif path.exists():
            os.link(path, dst / name)


def identity(snap: Path) -> tuple[int, ...]:
    """Which base files a snapshot holds: equal for snapshots that link the same files (empty
    when one is missing, so that loading the base says which)."""
    out: list[int] = []
    for name in (chunk_store.FILENAME, vector_store.FILENAME):
        try:
            st = (snap / name).stat()
        except OSError:
            return ()
        out += [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
    return tuple(out)


def merge_top(
    base: tuple[np.ndarray, np.ndarray], extra: tuple[np.ndarray, np.ndarray], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of two (keys, scores) lists, best first, ties by key."""
    keys = np.concatenate([base[0], extra[0]]).astype(np.int64)
    scores = np.concatenate([base[1], extra[1]]).astype(np.float32)
    order = np.lexsort((keys, -scores))[:k]
    return keys[order], scores[order]


def live_rows(delta: Delta) -> np.ndarray:
    """Base rows that are not tombstoned."""
    keep = np.ones(delta.base_rows, dtype=bool)
    keep[delta.tombstones] = False
    return np.flatnonzero(keep)


def remaining(delta: Delta, replaced: set[str]) -> list[int]:
    """Delta rows whose documents are neither replaced nor removed."""
    return [i for i, c in enumerate(delta.chunks) if c.doc_id not in replaced]


def subset(delta: Delta, rows: Sequence[int]) -> Delta:
    """The delta with only ``rows`` of its chunks (tombstones unchanged)."""
    idx = list(rows)
    return Delta(
        delta.base_rows,
        [delta.chunks[i] for i in idx],
        delta.vectors[idx] if len(delta.vectors) else delta.vectors,
        [delta.sentences[i] for i in idx],
        [delta.terms[i] for i in idx],
        delta.tombstones,
    )
