"""A snapshot's chunks and sentence vectors, read from its SQLite file when asked, not held in memory.

A search needs the text of the few passages it returns and the sentence vectors of its hundred or
so candidates, never the whole corpus at once; holding every chunk as a Python object and every
sentence vector as an array made a serving process several times larger than its vectors (text
is 2-4 bytes a character in Python, and a chunk has about five sentence vectors). Lookups by
primary key go through one read-only connection opened with the reader, so a snapshot pruned while
a reader still uses it stays readable (the open file outlives its name), serialised by a lock:
SQLite connections are not shared between threads otherwise.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.store.base import Sentences
from rag.store.faiss.chunks import FILENAME, select_in
from rag.store.faiss.snapshot import corrupt
from rag.types import Chunk


class ChunkTable:
    """Rows ``0..len-1`` of a snapshot's chunk store, fetched by row."""

    def __init__(self, snap: Path, dim: int) -> None:
        path = snap / FILENAME
        if not path.exists():
            raise corrupt(path, "is missing")
        self._path, self._dim, self._lock = path, dim, threading.Lock()
        try:
            self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            columns = {r[1] for r in self._con.execute("PRAGMA table_info(chunks)")}
            self._page = "page_start" if "page_start" in columns else "NULL"
            count, last = self._con.execute("SELECT COUNT(*), MAX(row) FROM chunks").fetchone()
            tables = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise corrupt(path, "is damaged", exc) from None
        if count and last != count - 1:
            raise corrupt(path, "has chunk rows that are not contiguous")
        self._rows = int(count)
        self._has_sentences = "sentences" in tables

    def __len__(self) -> int:
        return self._rows

    def _select(self, sql: str, rows: Sequence[int]) -> dict[int, tuple[object, ...]]:
        found: dict[int, tuple[object, ...]] = {}
        try:
            with self._lock:
                for r in select_in(self._con, sql, {int(r) for r in rows}):
                    found[int(r[0])] = r[1:]
        except sqlite3.DatabaseError as exc:
            raise corrupt(self._path, "is damaged", exc) from None
        return found

    def chunks(self, rows: Sequence[int]) -> list[Chunk]:
        """The chunks of these rows, in the same order."""
        sql = f'SELECT row, chunk_id, doc_id, source, title, text, start, "end", ordinal, {self._page} FROM chunks '
        found = self._select(sql + "WHERE row IN ({})", rows)
        try:
            return [Chunk(*found[int(r)]) for r in rows]  # type: ignore[arg-type]
        except KeyError as exc:
            raise corrupt(self._path, f"has no chunk at row {exc}") from None

    def sentences(self, rows: Sequence[int]) -> list[Sentences | None]:
        """Stored sentence spans and vectors of these rows (None where none were stored)."""
        if not self._has_sentences:
            return [None] * len(rows)
        found = self._select("SELECT row, spans, vectors FROM sentences WHERE row IN ({})", rows)
        out: list[Sentences | None] = []
        try:
            for r in rows:
                got = found.get(int(r))
                if got is None:
                    out.append(None)
                    continue
                spans, blob = got
                pairs = tuple((int(a), int(b)) for a, b in json.loads(str(spans)))
                out.append((pairs, np.frombuffer(blob, dtype=np.float32).reshape(len(pairs), self._dim)))  # type: ignore[call-overload]
        except ValueError as exc:
            raise corrupt(self._path, "holds damaged sentence vectors", exc) from None
        return out

    def __iter__(self) -> Iterator[Chunk]:
        """Every chunk in row order, a page of rows at a time (reads the whole table)."""
        for start in range(0, self._rows, 5000):
            yield from self.chunks(range(start, min(start + 5000, self._rows)))
