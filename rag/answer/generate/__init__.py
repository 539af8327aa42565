"""Answer generators: one small interface, backends looked up by name.

A ``Generator`` turns a question and its numbered passages into answer text, streamed as pieces.
Backends: ``extractive`` (default; quotes the best sentences, no model server), ``openai`` (any
OpenAI-compatible chat-completions server), ``ollama`` (Ollama's native chat API), ``anthropic``
(the Messages API), and ``echo`` (a deterministic test double). Adding a backend is one module with
a ``Generator`` subclass, registered here by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import InputError
from rag.registry import Registry
from rag.types import Passage

if TYPE_CHECKING:
    import httpx

    from rag.embed import Embedder


class Generator:
    """Base class: subclasses set ``name`` and implement :meth:`stream`."""

    name: str = "base"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def create(
        cls, settings: Settings, *, embedder: Embedder | None = None, client: httpx.Client | None = None
    ) -> Generator:
        """The factory the registry calls with what the caller shares; a backend takes what it needs.

        ``embedder`` is the index's (the extractive generator scores sentences with it), ``client``
        a pooled HTTP client (HTTP backends); this default takes neither.
        """
        return cls(settings)

    def stream(self, question: str, passages: Sequence[Passage], language: str) -> Iterator[str]:
        """Yield the answer as text pieces; passage ``i`` is cited as ``[i + 1]``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release network clients or other resources (no-op by default)."""

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Paths are imported on first use, so that `extractive` never imports the HTTP machinery it does
# not need and a broken optional backend cannot break the others.
REGISTRY: Registry[type[Generator]] = Registry(
    "generator",
    "RAG_GENERATOR or --generator",
    {
        "extractive": "rag.answer.generate.extractive:ExtractiveGenerator",
        "openai": "rag.answer.generate.openai:OpenAIGenerator",
        "ollama": "rag.answer.generate.ollama:OllamaGenerator",
        "anthropic": "rag.answer.generate.anthropic:AnthropicGenerator",
        "echo": "rag.answer.generate.echo:EchoGenerator",
    },
)


def generator_name(name: str | None, settings: Settings) -> str:
    """The generator a request asks for: ``name``, or the configured one for None.

    An unknown name is bad input (``unknown_generator``), checked before any index or model loads.
    """
    if name is None:
        return settings.generator
    if name not in REGISTRY:
        raise InputError(REGISTRY.unknown(name), code="unknown_generator")
    return name


def offered_generators(settings: Settings) -> tuple[str, ...]:
    """The generators an HTTP request may pick: ``settings.api_generators``, else the configured
    generator and ``extractive``; the configured one first."""
    chosen = settings.api_generators or (settings.generator, "extractive")
    return tuple(dict.fromkeys(n for n in (settings.generator, *chosen) if n in REGISTRY))


def offered_generator(name: str | None, settings: Settings) -> str:
    """Like :func:`generator_name`, for a request over HTTP: only an offered generator
    (``unknown_generator`` naming the offered ones otherwise)."""
    chosen = generator_name(name, settings)
    offered = offered_generators(settings)
    if name is not None and chosen not in offered:
        raise InputError(
            f"this service does not offer generator {chosen!r}; it offers: {', '.join(offered)}",
            code="unknown_generator",
        )
    return chosen


def get_generator(
    name: str, settings: Settings, *, embedder: Embedder | None = None, client: httpx.Client | None = None
) -> Generator:
    """Build the generator called ``name`` (ConfigError listing the known names if there is none)."""
    return REGISTRY.get(name).create(settings, embedder=embedder, client=client)


__all__ = ["Generator", "REGISTRY", "generator_name", "get_generator", "offered_generator", "offered_generators"]
