"""The query batcher: each caller gets its own vectors, concurrent callers share calls, a lone
caller is sent at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rag.embed import get_embedder
from rag.embed.batcher import QueryBatcher
from rag.embed.hashing import HashingEmbedder
from rag.errors import EmbedderError

QUESTIONS = [
    "Каков объем взаимной торговли за январь–сентябрь 2025 года?",
    "Сколько лет Казахстан и Узбекистан поддерживают тесные отношения?",
    "How much did Kazakhstan export to Uzbekistan?",
    "Какими договорами закреплен союз?",
    "Где прошел форум межрегионального сотрудничества?",
    "What is the share of Uzbekistan in Kazakhstan's trade?",
    "Когда был подписан договор о союзнических отношениях?",
    "Сколько совместных предприятий работает?",
]


class GatedEmbedder(HashingEmbedder):
    """Records the size of every call; a call can be held until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail = False

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.sizes.append(len(texts))
        self.entered.set()
        self.gate.wait(10)
        if self.fail:
            raise EmbedderError("engine failed")
        return super().embed_queries(texts)


def _queued(batcher: QueryBatcher, n: int) -> None:
    deadline = time.monotonic() + 10
    while len(batcher._queue) < n:
        assert time.monotonic() < deadline, "callers never queued"
        time.sleep(0.005)


@pytest.mark.parametrize("name", ["hashing", "e5-small"])
def test_each_caller_gets_its_own_vectors(name: str) -> None:
    embedder = get_embedder(name)
    alone = [embedder.embed_queries([q])[0] for q in QUESTIONS]
    batcher = QueryBatcher(embedder, max_batch=16)
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        for _ in range(3):
            got = list(pool.map(lambda q: batcher.embed_queries([q])[0], QUESTIONS))
            for a, b in zip(alone, got, strict=True):
                assert np.allclose(a, b, atol=1e-5)
    assert batcher.texts == 3 * len(QUESTIONS)


def test_callers_waiting_during_a_call_share_the_next_one() -> None:
    inner = GatedEmbedder()
    batcher = QueryBatcher(inner, max_batch=16)
    inner.gate.clear()
    with ThreadPoolExecutor(9) as pool:
        first = pool.submit(batcher.embed_queries, [QUESTIONS[0]])
        assert inner.entered.wait(5)
        rest = [pool.submit(batcher.embed_queries, [q]) for q in QUESTIONS]
        _queued(batcher, len(QUESTIONS))
        inner.gate.set()
        vectors = [f.result(10)[0] for f in rest]
        first.result(10)
    assert inner.sizes == [1, len(QUESTIONS)]
    for q, v in zip(QUESTIONS, vectors, strict=True):
        assert np.array_equal(v, HashingEmbedder().embed_queries([q])[0])


def test_batches_stop_at_max_batch_in_arrival_order() -> None:
    inner = GatedEmbedder()
    batcher = QueryBatcher(inner, max_batch=3)
    inner.gate.clear()
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(batcher.embed_queries, ["first"])
        assert inner.entered.wait(5)
        futures = []
        for q in QUESTIONS[:7]:
            futures.append(pool.submit(batcher.embed_queries, [q]))
            _queued(batcher, len(futures))
        inner.gate.set()
        for f in [first, *futures]:
            f.result(10)
    assert inner.sizes == [1, 3, 3, 1]
    # A caller with a whole batch of its own goes straight to the embedder.
    batcher.embed_queries(QUESTIONS[:3])
    assert inner.sizes[-1] == 3 and batcher.calls == 4


def test_a_lone_caller_is_sent_at_once_even_with_a_window() -> None:
    inner = HashingEmbedder()
    batcher = QueryBatcher(inner, max_batch=16, window=2.0)
    t0 = time.perf_counter()
    for q in QUESTIONS:
        batcher.embed_queries([q])
    assert time.perf_counter() - t0 < 1.0  # the 2 s window applies only when callers contend
    # and the batcher's own overhead is small beside the embedding itself
    overhead = []
    for q in QUESTIONS * 10:
        t0 = time.perf_counter()
        inner.embed_queries([q])
        t1 = time.perf_counter()
        batcher.embed_queries([q])
        overhead.append((time.perf_counter() - t1) - (t1 - t0))
    assert sorted(overhead)[len(overhead) // 2] < 0.002


def test_an_embedder_error_reaches_every_caller_of_the_batch() -> None:
    inner = GatedEmbedder()
    batcher = QueryBatcher(inner, max_batch=16)
    inner.gate.clear()
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.embed_queries, ["first"])
        assert inner.entered.wait(5)
        rest = [pool.submit(batcher.embed_queries, [q]) for q in QUESTIONS[:3]]
        _queued(batcher, 3)
        inner.fail = True
        inner.gate.set()
        for f in [first, *rest]:
            with pytest.raises(EmbedderError, match="engine failed"):
                f.result(10)
    inner.fail = False
    assert batcher.embed_queries(["again"]).shape == (1, inner.dim)  # the batcher is not left stuck


def test_passages_pass_straight_through() -> None:
    inner = GatedEmbedder()
    batcher = QueryBatcher(inner)
    assert batcher.name == inner.name and batcher.dim == inner.dim
    assert np.array_equal(batcher.embed_passages(["a b c"]), inner.embed_passages(["a b c"]))
    assert inner.sizes == []
