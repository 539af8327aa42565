"""The chunk store: one SQLite file per snapshot with every chunk, its vector and its document.

Row ``row`` of ``chunks`` is row ``row`` of the vector store. Vectors are kept here too (float32
blobs) so an incremental ingest can carry unchanged documents into a new snapshot without
embedding them again, and so are each chunk's BM25 terms, so it need not tokenize them again
(stemming every chunk of the corpus was most of an upload's time outside embedding). ``page_start`` (NULL for formats
without pages) came later: snapshots written before it have no such column and read back with no pages.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.store.base import Sentences
from rag.store.faiss.snapshot import corrupt
from rag.types import Chunk

FILENAME = "chunks.sqlite"

_SCHEMA = """
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, source TEXT NOT NULL,
    title TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    ordinal INTEGER NOT NULL, vector BLOB NOT NULL, page_start INTEGER
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE TABLE sentences (
    row INTEGER PRIMARY KEY, spans TEXT NOT NULL, vectors BLOB NOT NULL
);
CREATE TABLE terms (
    row INTEGER PRIMARY KEY, terms TEXT NOT NULL
);
"""


def write_chunks(
    directory: Path,
    rows: Iterable[tuple[Chunk, np.ndarray]],
    sentences: Iterable[Sentences | None] = (),
    terms: Iterable[list[str]] = (),
    filename: str = FILENAME,
) -> int:
    """Write a new chunk store in ``directory`` (with each row's BM25 terms); returns the number of rows."""
    path = directory / filename
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        n = 0
        for n, (c, vec) in enumerate(rows, start=1):
            con.execute(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    n - 1,
                    c.chunk_id,
                    c.doc_id,
                    c.source,
                    c.title,
                    c.text,
                    c.start,
                    c.end,
                    c.ordinal,
                    np.asarray(vec, dtype=np.float32).tobytes(),
                    c.page_start,
                ),
            )
        for row, sent in enumerate(sentences):
            if sent is not None:
                spans, vecs = sent
                con.execute(
                    "INSERT INTO sentences VALUES (?,?,?)",
                    (row, json.dumps(spans), np.asarray(vecs, dtype=np.float32).tobytes()),
                )
        # Terms are stems and numbers, never containing a space.
        con.executemany("INSERT INTO terms VALUES (?,?)", ((row, " ".join(t)) for row, t in enumerate(terms)))
        con.commit()
        return n
    finally:
        con.close()


def _connect(directory: Path, filename: str = FILENAME) -> sqlite3.Connection:
    path = directory / filename
    if not path.exists():
        raise corrupt(path, "is missing")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def read_chunks(
    directory: Path, with_vectors: bool = False, filename: str = FILENAME
) -> tuple[list[Chunk], np.ndarray | None]:
    """Every chunk in row order, and their vectors when asked."""
    try:
        con = _connect(directory, filename)
        try:
            columns = {r[1] for r in con.execute("PRAGMA table_info(chunks)")}
            page = "page_start" if "page_start" in columns else "NULL"
            cur = con.execute(
                f'SELECT row, chunk_id, doc_id, source, title, text, start, "end", ordinal, {page}'
                + (", vector" if with_vectors else "")
                + " FROM chunks ORDER BY row"
            )
            chunks: list[Chunk] = []
            vectors: list[np.ndarray] = []
            for i, r in enumerate(cur):
                if r[0] != i:
                    raise corrupt(directory / filename, "has chunk rows that are not contiguous")
                chunks.append(Chunk(*r[1:10]))
                if with_vectors:
                    vectors.append(np.frombuffer(r[10], dtype=np.float32))
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise corrupt(directory / filename, "is damaged", exc) from None
    try:
        vecs = np.stack(vectors) if with_vectors and vectors else None
    except ValueError as exc:  # vectors of different lengths
        raise corrupt(directory / filename, "holds damaged vectors", exc) from None
    return chunks, vecs


def read_sentences(directory: Path, dim: int, filename: str = FILENAME) -> dict[int, Sentences]:
    """Stored sentence spans and vectors by chunk row (empty when the index has none)."""
    try:
        con = _connect(directory, filename)
        try:
            has = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='sentences'").fetchone()
            rows = con.execute("SELECT row, spans, vectors FROM sentences").fetchall() if has else []
        finally:
            con.close()
        out: dict[int, Sentences] = {}
        for row, spans, blob in rows:
            pairs = tuple((int(a), int(b)) for a, b in json.loads(spans))
            vecs = np.frombuffer(blob, dtype=np.float32).reshape(len(pairs), dim)
            out[int(row)] = (pairs, vecs)
        return out
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise corrupt(directory / filename, "holds damaged sentence vectors", exc) from None


def read_terms(directory: Path, rows: int, filename: str = FILENAME) -> list[list[str]] | None:
    """Every row's BM25 terms, or None when the snapshot predates stored terms (or lacks some)."""
    try:
        con = _connect(directory, filename)
        try:
            has = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='terms'").fetchone()
            found = con.execute("SELECT row, terms FROM terms ORDER BY row").fetchall() if has else []
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise corrupt(directory / filename, "holds damaged BM25 terms", exc) from None
    if len(found) != rows or any(r != i for i, (r, _) in enumerate(found)):
        return None
    return [t.split() for _, t in found]


def select_in(con: sqlite3.Connection, sql: str, keys: Iterable[object]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` (with one ``IN ({})``) for these keys, a few hundred at a time: SQLite caps
    the number of parameters."""
    wanted = sorted(set(keys))  # type: ignore[type-var]
    for i in range(0, len(wanted), 500):
        part = wanted[i : i + 500]
        yield from con.execute(sql.format(",".join("?" * len(part))), part)


def rows_of(directory: Path, doc_ids: Iterable[str]) -> list[int]:
    """The rows of these documents' chunks (by the doc_id index: a delete need not read every row)."""
    try:
        con = _connect(directory)
        try:
            found = [int(r[0]) for r in select_in(con, "SELECT row FROM chunks WHERE doc_id IN ({})", doc_ids)]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise corrupt(directory / FILENAME, "is damaged", exc) from None
    return sorted(found)


def terms_of(directory: Path, rows: Iterable[int]) -> list[list[str]]:
    """The stored BM25 terms of these rows (rows without stored terms give none)."""
    wanted = {int(r) for r in rows}  # numpy integers would bind as blobs
    try:
        con = _connect(directory)
        try:
            return [t.split() for (t,) in select_in(con, "SELECT terms FROM terms WHERE row IN ({})", wanted)]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise corrupt(directory / FILENAME, "holds damaged BM25 terms", exc) from None
