"""Answer generators: one small interface, backends looked up by name.

A ``Generator`` turns a question and its numbered passages into answer text, streamed as pieces.
Backends: ``extractive`` (default; quotes the best sentences, no model server), ``openai`` (any
OpenAI-compatible chat-completions server), ``ollama`` (Ollama's native chat API), ``anthropic``
(the Messages API), and ``echo`` (a deterministic test double). Adding a backend is one module with
a ``Generator`` subclass, registered here by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rag.config import Settings
from rag.errors import ConfigError
from rag.types import Passage

if TYPE_CHECKING:
    from rag.answer.relevance import ScoredSentence


class Generator:
    """Base class: subclasses set ``name`` and implement :meth:`stream`."""

    name: str = "base"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str]:
        """Yield the answer as text pieces; passage ``i`` is cited as ``[i + 1]``."""
        raise NotImplementedError

    def stream_scored(
        self, question: str, passages: Sequence[Passage], scored: Sequence[ScoredSentence], language: str
    ) -> Iterator[str]:
        """Like :meth:`stream`, given the pipeline's sentence scores; LLM backends ignore them."""
        return self.stream(question, passages, language)

    def generate(self, question: str, passages: Sequence[Passage], language: str) -> str:
        """The whole answer at once."""
        return "".join(self.stream(question, passages, language))

    def close(self) -> None:
        """Release network clients or other resources (no-op by default)."""

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# name -> "module:ClassName" (imported on first use, so that `extractive` never imports httpx
# machinery it does not need and a broken optional backend cannot break the others) or a class.
REGISTRY: dict[str, str | type[Generator]] = {
    "extractive": "rag.answer.generate.extractive:ExtractiveGenerator",
    "openai": "rag.answer.generate.openai:OpenAIGenerator",
    "ollama": "rag.answer.generate.ollama:OllamaGenerator",
    "anthropic": "rag.answer.generate.anthropic:AnthropicGenerator",
    "echo": "rag.answer.generate.echo:EchoGenerator",
}


def register(name: str, target: str | type[Generator]) -> None:
    """Add a backend: ``target`` is a Generator subclass or a ``"module:Class"`` path."""
    REGISTRY[name] = target


def generator_class(name: str) -> type[Generator]:
    """The class registered as ``name``; ConfigError listing the known names otherwise."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"unknown generator {name!r}; known generators: {known} (set RAG_GENERATOR or --generator)")
    target = REGISTRY[name]
    if isinstance(target, type):
        return target
    module_name, _, class_name = target.partition(":")
    cls: type[Generator] = getattr(importlib.import_module(module_name), class_name)
    return cls


def get_generator(name: str, settings: Settings, **options: Any) -> Generator:
    """Build the generator called ``name``; ``options`` (e.g. ``client=``, ``embedder=``) go to its constructor."""
    return generator_class(name)(settings, **options)


__all__ = ["Generator", "REGISTRY", "generator_class", "get_generator", "register"]
