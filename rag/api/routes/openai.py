"""OpenAI-compatible ``POST /v1/chat/completions`` and ``GET /v1/models``.

Chat clients and the official ``openai`` package work unchanged. The last user message is the
question (earlier turns are not used: each answer is grounded in the documents alone). ``model``
picks a generator when it names one the service offers (``RAG_API_GENERATORS``), otherwise the
default generator answers. Citations ride along in extra fields: ``citations`` and ``refused`` on
the response, or on the final chunk of a stream. ``usage.prompt_tokens`` counts the question only,
not the retrieved context.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Stream

from rag import validate
from rag.answer.generate import offered_generators
from rag.answer.pipeline import answer_question, stream_answer
from rag.api.deps import MetricsDep, ServiceDep
from rag.api.errors import error_responses
from rag.api.streaming import SSE_HEADERS, sse
from rag.errors import InputError
from rag.text.tokens import count_tokens


class ContentPart(msgspec.Struct):
    """One part of a multi-part message; only ``text`` parts are read."""

    type: str
    text: str | None = None


class ChatMessage(msgspec.Struct):
    """One message of the conversation."""

    role: str
    content: str | list[ContentPart] | None = None


class ChatRequest(msgspec.Struct):
    """The fields of an OpenAI chat-completions request this service reads (others are ignored)."""

    messages: list[ChatMessage]
    model: str | None = None
    stream: bool = False
    top_k: int | None = None  # an extension: passages to retrieve


def last_user_text(messages: list[ChatMessage]) -> str:
    """The text of the last ``user`` message, or InputError."""
    for m in reversed(messages):
        if m.role == "user":
            if isinstance(m.content, list):
                return "\n".join(p.text or "" for p in m.content if p.type == "text")
            return m.content or ""
    raise InputError("no user message: the last message with role 'user' is the question")


@get("/v1/models", summary="Generators, listed as models", tags=["openai"], responses=error_responses())
async def list_models(service: ServiceDep) -> dict[str, Any]:
    """Every generator a request may pick, as an OpenAI model object; the default one first."""
    names = offered_generators(service.settings)
    return {"object": "list", "data": [{"id": n, "object": "model", "created": 0, "owned_by": "rag"} for n in names]}


@post(
    "/v1/chat/completions",
    status_code=200,
    summary="OpenAI-compatible chat completion",
    tags=["openai"],
    responses=error_responses(413, 422, 502, 503),
)
async def chat_completions(
    request: Request[Any, Any, Any], data: JSONBody[ChatRequest], service: ServiceDep, metrics: MetricsDep
) -> Response[Any]:
    """A ``chat.completion``, or ``chat.completion.chunk`` events ending in ``data: [DONE]``."""
    s = service.settings
    question, top_k = validate.text(last_user_text(data.messages), s), validate.top_k(data.top_k, s)
    # OpenAI clients name models of their own ("gpt-4o"): any name not offered gets the default.
    name = data.model if data.model in offered_generators(s) else s.generator
    retriever = await anyio.to_thread.run_sync(service.retriever)
    generator = await anyio.to_thread.run_sync(service.generator, name)
    args = (question, retriever, generator, s, top_k)
    meta = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": name}
    headers = {"X-Index-Version": retriever.index_version}
    if data.stream:
        events = await anyio.to_thread.run_sync(stream_answer, *args)
        pairs = service.limits.stream(request, generator, events, metrics)
        return Stream(chunks(pairs, meta), media_type="text/event-stream", headers={**SSE_HEADERS, **headers})
    answer = await service.limits.answer(request, generator, partial(answer_question, *args))
    body = answer.to_dict()
    completion = count_tokens(body["answer"])
    metrics.observe_answer(body, completion)
    return Response(
        {
            **meta,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": body["answer"]}, "finish_reason": "stop"}
            ],
            "usage": _usage(body["question"], completion),
            "citations": body["citations"],
            "refused": body["refused"],
        },
        headers=headers,
    )


def _usage(question: str, completion: int) -> dict[str, int]:
    prompt = count_tokens(question)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _chunk(meta: dict[str, Any], delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return sse(None, {**meta, "object": "chat.completion.chunk", "choices": [choice], **extra})


async def chunks(pairs: AsyncIterator[tuple[str, Any]], meta: dict[str, Any]) -> AsyncIterator[bytes]:
    """The pipeline's (kind, data) events as OpenAI stream chunks; an error chunk ends a failed stream."""
    yield _chunk(meta, {"role": "assistant", "content": ""})
    async for kind, data in pairs:
        if kind == "delta" and data.get("text"):
            yield _chunk(meta, {"content": data["text"]})
        elif kind == "done":
            yield _chunk(
                meta,
                {},
                "stop",
                citations=data.get("citations", []),
                refused=data.get("refused", False),
                usage=_usage(data.get("question", ""), count_tokens(data.get("answer", ""))),
            )
            yield b"data: [DONE]\n\n"
        elif kind == "error":
            yield sse(None, data)
