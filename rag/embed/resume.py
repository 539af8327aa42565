"""A scratch store of vectors embedded by an ingest that has not finished yet.

Embedding is the slow part of ingest (minutes to hours for a large corpus). Each batch's vectors
are committed here as soon as they exist, keyed by embedder and text, so an ingest killed midway
and started again embeds only what it had not reached. The store is emptied once a snapshot is
swapped in: from then on the snapshot holds the vectors.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FILENAME = "resume.sqlite"
log = logging.getLogger(__name__)


class ResumeCache:
    """Vectors by (embedder, text), durable after every ``put``.

    ``filename`` names another file in ``index_dir``: ``rag.evals.vectors`` keeps one for good.
    """

    def __init__(self, index_dir: Path, embedder_name: str, dim: int, filename: str = FILENAME) -> None:
        self.path = index_dir / filename
        self._prefix = embedder_name.encode() + b"\0"
        self._dim = dim
        try:
            self._con = self._open()
        except sqlite3.OperationalError:
            raise  # locked, read-only or a full disk: the caller reports it; the file may be fine
        except sqlite3.DatabaseError as exc:
            # Not a database or damaged: it only saves embedding work, so start it again.
            log.warning("%s is damaged (%s); starting it again", self.path.name, exc)
            self._remove()
            self._con = self._open()

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path)
        try:
            # A commit per batch must survive the process being killed, not the machine losing power:
            # WAL without a sync per commit does that (a sync per batch cost ~1.4 s of a 124 KB upload).
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
            con.execute("SELECT key, vector FROM vectors LIMIT 1").fetchall()
            con.commit()
        except sqlite3.Error:
            con.close()
            raise
        return con

    def _remove(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(self._prefix + text.encode()).digest()

    def get(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The stored vector of each text, or None."""
        out: list[np.ndarray | None] = []
        for text in texts:
            row = self._con.execute("SELECT vector FROM vectors WHERE key = ?", (self._key(text),)).fetchone()
            vec = np.frombuffer(row[0], dtype=np.float32) if row else None
            out.append(vec if vec is not None and vec.shape == (self._dim,) else None)
        return out

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors and commit, so they survive a crash right after."""
        rows = [(self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors, strict=True)]
        self._con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        self._con.commit()

    def vectors(self) -> np.ndarray:
        """Every stored vector of this store's dimension (n x dim), in no particular order."""
        rows = [np.frombuffer(b, dtype=np.float32) for (b,) in self._con.execute("SELECT vector FROM vectors")]
        kept = [v for v in rows if v.shape == (self._dim,)]
        return np.stack(kept) if kept else np.zeros((0, self._dim), dtype=np.float32)

    def __len__(self) -> int:
        return int(self._con.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def clear(self) -> None:
        """Forget everything (the vectors now live in a snapshot)."""
        self._con.close()
        self._remove()

    def close(self) -> None:
        self._con.close()
