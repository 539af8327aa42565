"""Bridging the synchronous, CPU-bound answer pipeline into async Server-Sent Events.

Each ``next()`` of the sync iterator runs in a worker thread, so the event loop stays free while a
model thinks, and a slow client simply stops us pulling (back-pressure for free). If the client
goes away, the thread's wait is cancelled at once (``rag.answer.generate.cancel`` cuts the upstream
socket it is blocked on) and the iterator is closed, so an HTTP generator drops its upstream
connection instead of finishing an answer nobody reads, even before the model's first token.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from rag.answer.generate.cancel import Cancel
from rag.api.errors import describe, error_body, public_body
from rag.api.metrics import Metrics
from rag.text.tokens import count_tokens

log = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _next(it: Iterator[T]) -> T | object:
    return next(it, _END)


async def iterate_in_thread(it: Iterator[T], limiter: anyio.CapacityLimiter | None = None) -> AsyncIterator[T]:
    """Yield the items of a blocking iterator, each produced in a worker thread (of ``limiter``'s pool)."""
    cancel = Cancel()
    idle = threading.Event()
    idle.set()

    def step() -> T | object:
        try:
            return cancel.run(_next, it)
        finally:
            idle.set()

    try:
        while True:
            idle.clear()
            try:
                item = await anyio.to_thread.run_sync(step, limiter=limiter, abandon_on_cancel=True)
            except anyio.get_cancelled_exc_class():
                cancel.cancel()  # wakes the abandoned thread's blocked read
                raise
            if item is _END:
                return
            yield item  # type: ignore[misc]
    finally:
        close = getattr(it, "close", None)
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(idle.wait)  # an iterator cannot be closed while it runs
            if close is not None:
                await anyio.to_thread.run_sync(cancel.run, close)


# Framing is our own, not Litestar's ServerSentEvent / ServerSentEventMessage: measured on the
# same 60-event answer stream, theirs cost 16-22 us an event against 11 us, and 9.1-9.3 ms a response
# against 4.5-6.2 ms through the test client (each response also pays a thread hop for headers we
# do not use), while the wire format it would give is the one below with "\r\n" unless told otherwise.
def sse(event: str | None, data: Any) -> bytes:
    """One SSE frame: ``event: <name>`` (if given) and one ``data:`` line of JSON."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


async def answer_events(
    events: Iterator[Any], metrics: Metrics, limiter: anyio.CapacityLimiter | None = None
) -> AsyncIterator[tuple[str, Any]]:
    """(kind, data) of each pipeline event; an exception becomes a final ``error`` event."""
    try:
        async for event in iterate_in_thread(events, limiter):
            if event.kind == "done":
                metrics.observe_answer(event.data, count_tokens(event.data.get("answer", "")))
            if event.kind == "error":
                yield "error", public_body(event.data)
                return
            yield event.kind, event.data
    except Exception as exc:  # noqa: BLE001 - after the first byte, an event is the only way to report
        _, code, message = describe(exc)
        if code == "internal_error":
            log.error("answer stream failed", exc_info=exc)
        yield "error", error_body(code, message)
