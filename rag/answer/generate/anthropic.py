"""Anthropic's Messages API (``POST /v1/messages``), streamed as Server-Sent Events.

Text arrives in ``content_block_delta`` events with a ``text_delta``; ``message_stop`` ends a
complete stream and an ``error`` event (e.g. overloaded) may arrive at any point.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from rag.answer.generate._http import HttpGenerator, parse_json, sse_events
from rag.answer.prompt import Prompt
from rag.errors import GeneratorError

API_VERSION = "2023-06-01"


class AnthropicGenerator(HttpGenerator):
    """Messages with ``stream: true`` at ``settings.anthropic_base_url``."""

    name = "anthropic"

    def build_request(self, prompt: Prompt) -> httpx.Request:
        s = self.settings
        headers = {"anthropic-version": API_VERSION, "Accept": "text/event-stream"}
        if s.anthropic_api_key:
            headers["x-api-key"] = s.anthropic_api_key
        body = {
            "model": s.anthropic_model,
            "max_tokens": s.llm_max_tokens,
            "temperature": s.llm_temperature,
            "system": prompt.system,
            "messages": [{"role": "user", "content": prompt.user}],
            "stream": True,
        }
        url = s.anthropic_base_url.rstrip("/") + "/v1/messages"
        return self.client.build_request("POST", url, json=body, headers=headers)

    def parse(self, response: httpx.Response) -> Iterator[str]:
        for event in sse_events(response, self.name):
            obj = parse_json(event.data, self.name)
            if not isinstance(obj, dict):
                raise GeneratorError(f"anthropic sent a malformed stream: unexpected event {event.data[:120]!r}")
            kind = obj.get("type", event.event)
            if kind == "error":
                err = obj.get("error")
                detail = err.get("message", err) if isinstance(err, dict) else err
                raise GeneratorError(f"anthropic reported an error mid-stream: {detail}")
            if kind == "content_block_delta":
                delta = obj.get("delta")
                if not isinstance(delta, dict):
                    raise GeneratorError(f"anthropic sent a malformed stream: {event.data[:120]!r}")
                if delta.get("type") == "text_delta" and delta.get("text"):
                    yield str(delta["text"])
            elif kind == "message_stop":
                return
        raise GeneratorError("anthropic stream was cut off before it finished (no message_stop)")
