"""LLM generation kept apart from everything else: its own slots, its own threads, stopped when
its client leaves.

A slow LLM once held every worker thread of the app (45 abandoned asks; a search meanwhile took
48 s). Now a request that calls an LLM first takes a slot: at most ``llm_concurrency`` in flight,
``llm_concurrency_per_key`` per caller (key, or client address when no keys are configured).
Waiting for a slot costs no thread, and after ``llm_queue_seconds`` the request gets
``503 generator_busy``. Generation then runs in a thread pool of its own, as large as the slots, so
searches and extractive answers never wait behind it in the default pool.

A non-streaming request listens for its client's disconnect while the answer is written and then
cancels the call (``rag.answer.generate.cancel``), as a streaming one does when its client leaves.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from litestar import Request

from rag.answer.generate import Generator
from rag.answer.generate.cancel import Cancel
from rag.api.errors import ApiError, error_body
from rag.api.metrics import Metrics
from rag.api.streaming import answer_events
from rag.config import Settings
from rag.errors import GenerationCancelledError

T = TypeVar("T")


def calls_llm(generator: Generator) -> bool:
    """Whether ``generator`` talks to a model server (the local ones need no slot)."""
    from rag.answer.generate._http import HttpGenerator

    return isinstance(generator, HttpGenerator)


class GenerationLimits:
    """Slots and threads for LLM calls (one per app; built lazily inside the event loop)."""

    def __init__(self, settings: Settings) -> None:
        self.total = settings.llm_concurrency
        self.per_key = settings.llm_concurrency_per_key
        self.queue_seconds = settings.llm_queue_seconds
        self._slots: anyio.Semaphore | None = None
        self._threads: anyio.CapacityLimiter | None = None
        self._keys: dict[str, tuple[anyio.Semaphore, int]] = {}  # key -> (its slots, requests using them)

    @property
    def threads(self) -> anyio.CapacityLimiter:
        """The generation thread pool's limiter: one thread per slot."""
        if self._threads is None:
            self._threads = anyio.CapacityLimiter(self.total)
        return self._threads

    @property
    def in_flight(self) -> int:
        """Slots taken right now."""
        return 0 if self._slots is None else self.total - self._slots.value

    @contextlib.asynccontextmanager
    async def slot(self, key: str, waiting: anyio.CancelScope | None = None) -> AsyncIterator[None]:
        """Hold one generation slot for ``key``; ApiError 503 when none frees up in time.

        Cancelling ``waiting`` (the client left) gives up the wait with GenerationCancelledError.
        """
        if self._slots is None:
            self._slots = anyio.Semaphore(self.total)
        mine, users = self._keys.get(key) or (anyio.Semaphore(self.per_key), 0)
        self._keys[key] = (mine, users + 1)
        held: list[anyio.Semaphore] = []
        try:
            with waiting or anyio.CancelScope(), anyio.move_on_after(self.queue_seconds):
                for sem in (mine, self._slots):
                    await sem.acquire()
                    held.append(sem)
            if waiting is not None and waiting.cancelled_caught:
                raise GenerationCancelledError("the client went away while waiting for a generation slot")
            if len(held) < 2:
                raise ApiError(
                    503,
                    "generator_busy",
                    f"all {self.total} generation slots are busy (at most {self.per_key} per key); retry later",
                    headers={"Retry-After": str(max(1, math.ceil(self.queue_seconds)))},
                )
            yield
        finally:
            for sem in reversed(held):
                sem.release()
            sem_, users = self._keys[key]
            if users <= 1:
                del self._keys[key]  # keeps the table as small as the callers waiting right now
            else:
                self._keys[key] = (sem_, users - 1)

    async def answer(self, request: Request[Any, Any, Any], generator: Generator, fn: Callable[[], T]) -> T:
        """``fn()``, an answer written by ``generator``; when that calls an LLM, under a slot, in a
        generation thread, and stopped if the client disconnects meanwhile."""
        if not calls_llm(generator):
            return await anyio.to_thread.run_sync(fn)
        cancel, waiting = Cancel(), anyio.CancelScope()
        error: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(_cancel_on_disconnect, request, cancel, waiting)
            try:
                async with self.slot(caller_key(request), waiting):
                    result = await anyio.to_thread.run_sync(cancel.run, fn, limiter=self.threads)
            except Exception as exc:  # noqa: BLE001 - re-raised below, outside the task group's wrapping
                error = exc
            tg.cancel_scope.cancel()
        if error is not None:
            raise error
        return result

    def stream(
        self, request: Request[Any, Any, Any], generator: Generator, events: Iterator[Any], metrics: Metrics
    ) -> AsyncIterator[tuple[str, Any]]:
        """The (kind, data) events of a streamed answer, under a slot when ``generator`` calls an LLM."""
        if not calls_llm(generator):
            return answer_events(events, metrics)
        return self.events(events, metrics, caller_key(request))

    async def events(self, events: Iterator[Any], metrics: Metrics, key: str) -> AsyncIterator[tuple[str, Any]]:
        """``answer_events`` under a slot, in generation threads; no free slot ends it with an error event."""
        try:
            async with self.slot(key):
                async for kind, data in answer_events(events, metrics, self.threads):
                    yield kind, data
        except ApiError as exc:  # raised only while waiting for the slot, before any event
            yield "error", error_body(exc.code, exc.message)


async def _cancel_on_disconnect(request: Request[Any, Any, Any], cancel: Cancel, waiting: anyio.CancelScope) -> None:
    # The body has been read by now, so the next message is the disconnect (or the server's
    # "response complete", which this task never lives to see: it is cancelled first).
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            cancel.cancel()
            waiting.cancel()
            return


def caller_key(request: Request[Any, Any, Any]) -> str:
    """Whom a generation slot is counted against: the AuthGuard's caller, else the address."""
    identity = getattr(getattr(request.state, "caller", None), "identity", None)
    if identity:
        return str(identity)
    return f"ip:{request.client.host if request.client else 'unknown'}"
