"""Any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp, LM Studio, Ollama's /v1).

Streams over SSE: ``data: {"choices": [{"delta": {"content": ...}}]}`` events ending in
``data: [DONE]``. Some servers omit ``[DONE]`` but always send a ``finish_reason``, so either one
marks a complete stream; a stream that ends with neither was cut off.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from rag.answer.generate._http import HttpGenerator, chat_messages, parse_json, sse_events
from rag.answer.prompt import Prompt
from rag.errors import GeneratorError


def _error_text(obj: dict[str, Any]) -> str:
    err = obj.get("error")
    return str(err.get("message", err)) if isinstance(err, dict) else str(err)


class OpenAIGenerator(HttpGenerator):
    """Chat completions with ``stream: true`` at ``settings.openai_base_url``."""

    name = "openai"

    def build_request(self, prompt: Prompt) -> httpx.Request:
        s = self.settings
        headers = {"Accept": "text/event-stream"}
        if s.openai_api_key:
            headers["Authorization"] = f"Bearer {s.openai_api_key}"
        body = {
            "model": s.openai_model,
            "messages": chat_messages(prompt),
            "temperature": s.llm_temperature,
            "max_tokens": s.llm_max_tokens,
            "stream": True,
        }
        url = s.openai_base_url.rstrip("/") + "/chat/completions"
        return self.client.build_request("POST", url, json=body, headers=headers)

    def parse(self, response: httpx.Response) -> Iterator[str]:
        finished = False
        for event in sse_events(response, self.name):
            if event.data.strip() == "[DONE]":
                return
            obj = parse_json(event.data, self.name)
            if not isinstance(obj, dict):
                raise GeneratorError(f"openai sent a malformed stream: unexpected event {event.data[:120]!r}")
            if obj.get("error"):
                raise GeneratorError(f"openai reported an error mid-stream: {_error_text(obj)}")
            choices = obj.get("choices")
            if not isinstance(choices, list):
                raise GeneratorError(f"openai sent a malformed stream: no choices in {event.data[:120]!r}")
            for choice in choices:
                delta = choice.get("delta") if isinstance(choice, dict) else None
                text = delta.get("content") if isinstance(delta, dict) else None
                if text:
                    yield str(text)
                if isinstance(choice, dict) and choice.get("finish_reason"):
                    finished = True
        if not finished:
            raise GeneratorError("openai stream was cut off before it finished (no [DONE] or finish_reason)")
