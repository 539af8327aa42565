"""Settings, read once from ``RAG_*`` environment variables into one typed object.

Every field maps to ``RAG_<FIELD NAME IN UPPER CASE>``; CLI flags override by passing keyword
arguments to :func:`load_settings`. Core code receives a ``Settings`` and never reads
``os.environ`` itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from rag.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field docstrings are the comments above each field."""

    # Directory holding the built index (FAISS vectors, chunk store, manifest).
    index_dir: Path = PROJECT_ROOT / "index"
    # Embedder name: "e5-small", "sentence-transformers:<model or path>", or "hashing".
    embedder: str = "e5-small"
    # Chunk size budget in cl100k tokens, and overlap in sentences (see rag/chunk.py for why).
    chunk_tokens: int = 200
    chunk_overlap: int = 1
    # Embed every sentence at ingest too, so answers are scored without embedding at question time
    # (roughly doubles ingest time; the retrieval benchmark turns it off).
    sentence_vectors: bool = True
    # Vector index kind: "flat" (exact inner product) or "hnsw" (approximate, for large corpora).
    vector_index: str = "flat"
    # Default number of passages returned, and the default search mode.
    top_k: int = 5
    search_mode: str = "hybrid"
    # Answer generator backend name (see rag/generate/).
    generator: str = "extractive"
    # Directory of prompt templates.
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    # Token budget for the context packed into an LLM prompt.
    context_tokens: int = 1800
    # OpenAI-compatible backend.
    openai_base_url: str = "http://127.0.0.1:11434/v1"
    openai_model: str = "llama3.1"
    openai_api_key: str = ""
    # Ollama native backend.
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "llama3.1"
    # Anthropic Messages backend.
    anthropic_base_url: str = "https://api.anthropic.com"
    anthropic_model: str = "claude-sonnet-4-5"
    anthropic_api_key: str = ""
    # Shared LLM call settings: timeout in seconds, sampling temperature, retries before first token.
    llm_timeout: float = 60.0
    llm_temperature: float = 0.1
    llm_retries: int = 2
    llm_max_tokens: int = 512
    # Seconds to wait before the first retry of a failed LLM call (doubles per retry).
    llm_retry_backoff: float = 0.5
    # Refuse before any LLM call when no sentence of the retrieved passages reaches this relevance
    # (rag/relevance.py; calibrated on evals/seed_questions.jsonl, see docs/answering.md).
    refusal_threshold: float = 0.8
    # Fall back to the extractive generator when the configured LLM backend fails.
    llm_fallback: bool = False
    # HTTP service: bind address, port, worker processes.
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # API keys (comma-separated). Query keys may ask and search; admin keys may also manage documents.
    api_keys: tuple[str, ...] = ()
    admin_keys: tuple[str, ...] = ()
    # Widget keys: "key@https://origin1|https://origin2" entries, comma-separated.
    widget_keys: tuple[str, ...] = ()
    # CORS allow-list of origins (comma-separated). Empty: no cross-origin access.
    cors_origins: tuple[str, ...] = ()
    # Requests per minute per key (query keys and widget keys).
    rate_limit_per_minute: int = 60
    widget_rate_limit_per_minute: int = 20
    # Limits on input.
    max_question_chars: int = 2000
    max_top_k: int = 50
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50_000_000  # PDFs with pictures run to tens of MB
    # Path of the XQuAD-ru benchmark (used by evals and benchmarks).
    xquad_path: Path = PROJECT_ROOT.parent / "shared" / "benchmarks" / "xquad-ru" / "xquad.ru.json"


def _convert(name: str, raw: str, kind: Any) -> Any:
    try:
        if kind is bool:
            low = raw.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw).expanduser()
        if kind == tuple[str, ...]:
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        return raw
    except ValueError:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from None


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from ``RAG_*`` variables in ``env`` (default: the process environment),
    then apply non-None keyword overrides (CLI flags)."""
    env = os.environ if env is None else env
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get(f"RAG_{f.name.upper()}")
        if raw is not None:
            values[f.name] = _convert(f.name, raw, hints[f.name])
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in hints:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = Path(value) if hints[key] is Path else value
    settings = Settings(**values)
    _validate(settings)
    return settings


def _validate(s: Settings) -> None:
    if s.chunk_tokens < 16:
        raise ConfigError("chunk_tokens must be at least 16")
    if s.chunk_overlap < 0:
        raise ConfigError("chunk_overlap must be >= 0")
    if s.top_k < 1:
        raise ConfigError("top_k must be >= 1")
    if s.search_mode not in {"hybrid", "dense", "lexical"}:
        raise ConfigError(f"search_mode must be hybrid, dense or lexical, not {s.search_mode!r}")
    if s.vector_index not in {"flat", "hnsw"}:
        raise ConfigError(f"vector_index must be flat or hnsw, not {s.vector_index!r}")
    if not 1 <= s.port <= 65535:
        raise ConfigError(f"port must be between 1 and 65535, not {s.port}")


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with some fields changed, checked like ``load_settings``."""
    # CLI flags (`rag ingest --chunk-tokens`, `rag serve --port`) arrive here, not through load_settings.
    changed = dataclasses.replace(settings, **changes)
    _validate(changed)
    return changed


__all__ = ["PROJECT_ROOT", "Settings", "load_settings", "replace", "field"]
