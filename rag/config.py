"""Settings, read once from ``RAG_*`` environment variables into one typed object.

Every field maps to ``RAG_<FIELD NAME IN UPPER CASE>``; CLI flags override by passing keyword
arguments to :func:`load_settings`. Core code receives a ``Settings`` and never reads
``os.environ`` itself.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints
from urllib.parse import urlsplit

from rag.errors import ConfigError

# The checkout this module was loaded from. Only the repository's own files use it (tests, the eval
# question sets); no setting defaults to it, so an installed package never looks into site-packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The choices of the settings below that take one of a fixed set of names.
SEARCH_MODES = ("hybrid", "dense", "lexical")
VECTOR_INDEXES = ("auto", "flat", "hnsw", "ivf")


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field docstrings are the comments above each field."""

    # Directory holding the built index (FAISS vectors, chunk store, manifest); a relative path is
    # taken from the working directory.
    index_dir: Path = Path("index")
    # Where the index lives: "faiss" (snapshots in index_dir) or "milvus" (see docs/store.md).
    store: str = "faiss"
    # Milvus: a local path runs Milvus Lite in this process (empty: <index_dir>/milvus.db); an
    # http(s)://host:port URI talks to a Milvus server or cluster. The token is "user:password" or a key.
    milvus_uri: str = ""
    milvus_token: str = ""
    # Prefix of the Milvus collections holding this index (several indexes can share one server).
    milvus_collection: str = "rag"
    # Embedder name: "e5-small", "sentence-transformers:<model or path>", or "hashing".
    embedder: str = "e5-small"
    # Largest passage, in the embedder's tokens (capped at its window), and the overlap in sentences
    # between windows of a paragraph too long for one passage (see rag/ingest/chunk.py for why).
    chunk_tokens: int = 512
    chunk_overlap: int = 1
    # Embed every sentence at ingest too, so answers are scored without embedding at question time
    # (roughly doubles ingest time; the retrieval benchmark turns it off).
    sentence_vectors: bool = True
    # Embed each passage with its title (the document title and section heading) above its text, so
    # a paragraph that names its subject only in the title ("Голикова, Татьяна Алексеевна") is found
    # by questions naming it (docs/retrieval.md measures it on every set); each sentence vector too,
    # when the title is in the text's language (docs/answering.md).
    passage_titles: bool = True
    # Vector index kind: "flat" (exact inner product), or for large corpora "hnsw" (a graph, both
    # stores) or "ivf" (inverted lists of 4-bit codes re-scored exactly, FAISS only); "auto" is flat
    # below 200,000 chunks and hnsw from there with FAISS, flat with Milvus: see docs/store.md.
    vector_index: str = "auto"
    # HNSW search depth (FAISS efSearch, Milvus ef; never below the candidates a search asks for):
    # deeper finds more of the exact nearest neighbours and costs time. At 1M synthetic chunks two
    # builds of the same graph found 0.954 and 0.942 at 256 (2.7 ms): 384 keeps 0.95 with a margin
    # (bench/results/clustered/hnsw_sweep.md).
    hnsw_ef_search: int = 384
    # Share of an "ivf" index's lists a search scans (more finds more of the exact nearest neighbours
    # and costs time in proportion; bench/results/clustered/ivf_sweep.md).
    ivf_search_share: float = 0.25
    # Default number of passages returned, and the default search mode.
    top_k: int = 5
    search_mode: str = "hybrid"
    # Answer generator backend name (see rag/generate/).
    generator: str = "extractive"
    # Directory of prompt templates (system.txt, answer.txt, refusal.<lang>.txt) that replace the
    # ones shipped in the package (rag/prompts/); unset: the shipped ones.
    prompts_dir: Path | None = None
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
    # Refuse before any LLM call when no sentence of the retrieved passages reaches this relevance:
    # log-odds of the fitted model in rag/answer/relevance.py, whose fitted operating point is 0.
    # Raise it to refuse more, lower it to answer more (docs/answering.md).
    refusal_threshold: float = 0.0
    # The extractive answer quotes the best sentence, then the next best while the quoted ones hold
    # the answer with less than this probability (the relevance model's log-odds as a softmax over
    # the question's sentences), at most two: lower gives shorter answers, higher finds the answer
    # more often (the trade-off is measured in docs/answering.md). 0 quotes one sentence only.
    answer_coverage: float = 0.8
    # Fall back to the extractive generator when the configured LLM backend fails.
    llm_fallback: bool = False
    # Generators an HTTP request may pick ("generator" in /v1/ask, "model" in chat completions;
    # comma-separated). Empty: the configured generator and extractive. A request must not make the
    # server send the documents to a backend its operator did not set up.
    api_generators: tuple[str, ...] = ()
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
    # Host names the HTTP service answers to besides loopback ones (comma-separated; "*.example.com"
    # and "*" allowed), against DNS rebinding. Empty: no others without keys, any with keys.
    allowed_hosts: tuple[str, ...] = ()
    # Requests per minute per key (query and admin keys), per widget visitor (widget key and client
    # address together, so one visitor cannot lock out the rest), and per widget key for all its
    # visitors together. 0 disables a limit.
    rate_limit_per_minute: int = 60
    widget_rate_limit_per_minute: int = 20
    widget_key_rate_limit_per_minute: int = 600
    # Wrong API keys allowed per client address per minute before that address gets 429s (0: no limit).
    auth_failures_per_minute: int = 10
    # Limits on input.
    max_question_chars: int = 2000
    max_top_k: int = 50
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 50_000_000  # PDFs with pictures run to tens of MB
    # Uploads larger than this many bytes are ingested as a background job: the request answers
    # 202 with a job URL (GET /v1/jobs/{id}); smaller ones are ingested within the request.
    upload_job_bytes: int = 64_000
    # Bytes of uploads waiting for or in a background job, per process; an upload past it gets 503
    # ingest_busy with Retry-After (each queued upload is held in memory until its job runs).
    upload_queue_bytes: int = 200_000_000
    # Query embedding under load (rag/embed/batcher.py): at most this many queries share one embedder
    # call, and a contended batch may wait this long for more (0: no wait; measured in bench/load.py).
    query_batch_size: int = 16
    query_batch_window_ms: float = 0.0
    # LLM generation (rag/api/limits.py): calls in flight at once, overall and per key; a request
    # waits at most llm_queue_seconds for a slot, then gets 503 generator_busy.
    llm_concurrency: int = 8
    llm_concurrency_per_key: int = 4
    llm_queue_seconds: float = 30.0
    # Uvicorn: seconds a client may take to send a request's headers, seconds an idle keep-alive
    # connection stays open, and connections plus requests served at once before answering 503.
    http_header_timeout: float = 10.0
    http_keepalive_timeout: int = 5
    http_max_concurrency: int = 256
    # External benchmarks (used by `rag eval` and benchmarks), from the working directory: XQuAD-ru,
    # TyDi-ru (open half) and XQuAD English (all paragraphs, open half of the questions).
    xquad_path: Path = Path("../shared/benchmarks/xquad-ru/xquad.ru.json")
    tydi_path: Path = Path("../shared/benchmarks/tydi-ru/tydi-ru.open.json")
    xquad_en_path: Path = Path("../shared/benchmarks/xquad-en/xquad.en.open.json")


def _optional_of(kind: Any) -> Any:
    """``X`` for a hint ``X | None``, else the hint itself."""
    if isinstance(kind, types.UnionType):
        args = [a for a in get_args(kind) if a is not type(None)]
        return args[0] if len(args) == 1 else kind
    return kind


def _convert(name: str, raw: str, kind: Any) -> Any:
    kind = _optional_of(kind)
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
        values[key] = Path(value) if _optional_of(hints[key]) is Path else value
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
    if s.search_mode not in SEARCH_MODES:
        raise ConfigError(f"search_mode must be one of {', '.join(SEARCH_MODES)}, not {s.search_mode!r}")
    if s.vector_index not in VECTOR_INDEXES:
        raise ConfigError(f"vector_index must be one of {', '.join(VECTOR_INDEXES)}, not {s.vector_index!r}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,150}", s.milvus_collection):
        raise ConfigError(f"milvus_collection must be letters, digits and '_', not {s.milvus_collection!r}")
    for name in (
        "hnsw_ef_search",
        "query_batch_size",
        "llm_concurrency",
        "llm_concurrency_per_key",
        "http_max_concurrency",
    ):
        if getattr(s, name) < 1:
            raise ConfigError(f"{name} must be at least 1")
    for name in ("query_batch_window_ms", "llm_queue_seconds", "http_header_timeout", "http_keepalive_timeout"):
        if getattr(s, name) < 0:
            raise ConfigError(f"{name} must be >= 0")
    if not 0 < s.ivf_search_share <= 1:
        raise ConfigError(f"ivf_search_share must be above 0 and at most 1, not {s.ivf_search_share}")
    if s.store == "milvus" and s.vector_index == "ivf":
        raise ConfigError("vector_index ivf is FAISS's; with store milvus choose flat or hnsw")
    if not 0 <= s.answer_coverage <= 1:
        raise ConfigError(f"answer_coverage must be between 0 and 1, not {s.answer_coverage}")
    if not 1 <= s.port <= 65535:
        raise ConfigError(f"port must be between 1 and 65535, not {s.port}")
    for name in ("openai_base_url", "ollama_base_url", "anthropic_base_url"):
        _check_url(name, getattr(s, name))


def _check_url(name: str, url: str) -> None:
    """ConfigError unless ``url`` is an http(s) URL with a host (the URL itself is not repeated:
    it may hold a password)."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(f"RAG_{name.upper()} must be an http:// or https:// URL with a host name")


def replace(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with some fields changed, checked like ``load_settings``."""
    # CLI flags (`rag ingest --chunk-tokens`, `rag serve --port`) arrive here, not through load_settings.
    changed = dataclasses.replace(settings, **changes)
    _validate(changed)
    return changed


def ingest_command(settings: Settings, *flags: str) -> str:
    """`rag ingest FLAGS`, in backticks, as a message suggests it: with the options that name the
    index of ``settings`` where it is not the default one, so that a copied command acts on the index
    the message is about. Milvus's URI and collection have no flags: they come as variables."""
    default = Settings()
    words = ["rag", "ingest", *flags]
    if settings.index_dir != default.index_dir:  # with Milvus too: uploads and jobs live there
        words += ["--index", str(settings.index_dir)]
    if settings.store != default.store:
        words += ["--store", settings.store]
    variables = []
    if settings.store == "milvus":
        for name in ("milvus_uri", "milvus_collection"):
            if (value := getattr(settings, name)) != getattr(default, name):
                variables.append(f"RAG_{name.upper()}={shlex.quote(value)}")
    return "`" + " ".join([*variables, shlex.join(words)]) + "`"


__all__ = [
    "PROJECT_ROOT",
    "SEARCH_MODES",
    "VECTOR_INDEXES",
    "Settings",
    "ingest_command",
    "load_settings",
    "replace",
    "field",
]
