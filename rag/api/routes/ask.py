"""``POST /v1/ask``: an answer with citations, as one JSON object or as Server-Sent Events.

The stream's wire format is fixed (the browser widget parses it)::

    event: delta       data: {"text": "..."}            (any number)
    event: citations   data: {"refused", "citations", "context"}
    event: done        data: {...the non-streaming response object...}
    event: error       data: {"error": {"code", "message"}}   (instead of the rest, on failure)

Bad input is answered with a JSON error before the stream starts; only failures after the first
byte (a backend dying mid-answer, no LLM slot freeing up in time) arrive as an ``error`` event.
Answers from an LLM run under the generation limits of ``rag.api.limits``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, post
from litestar.params import JSONBody
from litestar.response import Stream

from rag import validate
from rag.answer.generate import offered_generator
from rag.answer.pipeline import answer_question, stream_answer
from rag.api.deps import MetricsDep, ServiceDep
from rag.api.errors import error_responses
from rag.api.streaming import SSE_HEADERS, sse
from rag.text.tokens import count_tokens


class AskRequest(msgspec.Struct):
    """Body of ``POST /v1/ask``."""

    question: str
    top_k: int | None = None
    generator: str | None = None
    stream: bool = False


@post(
    "/v1/ask",
    status_code=200,
    summary="Answer a question with citations",
    tags=["answers"],
    responses=error_responses(413, 422, 502, 503),
)
async def ask(
    request: Request[Any, Any, Any], data: JSONBody[AskRequest], service: ServiceDep, metrics: MetricsDep
) -> Response[Any]:
    """The same object as `rag ask --json`; with ``"stream": true``, text/event-stream."""
    s = service.settings
    question, top_k = validate.text(data.question, s), validate.top_k(data.top_k, s)
    name = offered_generator(data.generator, s)
    retriever = await anyio.to_thread.run_sync(service.retriever)
    generator = await anyio.to_thread.run_sync(service.generator, name)
    headers = {"X-Index-Version": retriever.index_version}
    if data.stream:
        # Retrieval and the refusal check run here, so their errors are still plain JSON responses.
        events = await anyio.to_thread.run_sync(partial(stream_answer, question, retriever, generator, s, top_k=top_k))
        pairs = service.limits.stream(request, generator, events, metrics)
        return Stream(ask_events(pairs), media_type="text/event-stream", headers={**SSE_HEADERS, **headers})
    run = partial(answer_question, question, retriever, generator, s, top_k=top_k)
    answer = await service.limits.answer(request, generator, run)
    body = answer.to_dict()
    metrics.observe_answer(body, count_tokens(body["answer"]))
    return Response(body, headers=headers)


async def ask_events(pairs: AsyncIterator[tuple[str, Any]]) -> AsyncIterator[bytes]:
    """The pipeline's (kind, data) events as SSE frames in the wire format above."""
    async for kind, data in pairs:
        yield sse(kind, data)
