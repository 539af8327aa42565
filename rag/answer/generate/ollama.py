"""Ollama's native chat API (``POST /api/chat``), streamed as newline-delimited JSON.

Each line is ``{"message": {"content": ...}, "done": false}``; the last one has ``"done": true``.
Errors arrive as ``{"error": "..."}``, before or during the stream.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from rag.answer.generate._http import HttpGenerator, chat_messages, parse_json
from rag.answer.prompt import Prompt
from rag.errors import GeneratorError


class OllamaGenerator(HttpGenerator):
    """Chat with ``stream: true`` at ``settings.ollama_base_url``."""

    name = "ollama"

    def build_request(self, prompt: Prompt) -> httpx.Request:
        s = self.settings
        body = {
            "model": s.ollama_model,
            "messages": chat_messages(prompt),
            "stream": True,
            "options": {"temperature": s.llm_temperature, "num_predict": s.llm_max_tokens},
        }
        return self.client.build_request("POST", s.ollama_base_url.rstrip("/") + "/api/chat", json=body)

    def parse(self, response: httpx.Response) -> Iterator[str]:
        for line in response.iter_lines():
            if not line.strip():
                continue
            obj = parse_json(line, self.name)
            if not isinstance(obj, dict):
                raise GeneratorError(f"ollama sent a malformed stream: unexpected line {line[:120]!r}")
            if obj.get("error"):
                raise GeneratorError(f"ollama reported an error: {obj['error']}")
            message = obj.get("message")
            if message is not None and not isinstance(message, dict):
                raise GeneratorError(f"ollama sent a malformed stream: unexpected line {line[:120]!r}")
            text = (message or {}).get("content")
            if text:
                yield str(text)
            if obj.get("done") is True:
                return
        raise GeneratorError('ollama stream was cut off before it finished (no "done": true)')
