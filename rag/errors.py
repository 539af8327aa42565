"""One error tree for the whole project.

Library errors (faiss, httpx, file decoding, sqlite) are translated into these at the boundary
where they happen. The CLI turns them into a one-line message and an exit code; the HTTP API turns
them into a JSON body with a stable ``error.code`` and a status code. Nothing else should leak.

    RagError
    ├── ConfigError            bad setting, unknown backend name          (exit 2, HTTP 500)
    ├── InputError             empty/oversized question, bad argument      (exit 2, HTTP 400/413)
    │   └── NothingToIndexError  `rag ingest` read no document and there is no index to keep
    ├── DocumentError          one file could not be read (binary, encoding) — reported, skipped (HTTP 415)
    ├── IndexError_            base for index problems                      (exit 3, HTTP 503)
    │   ├── IndexMissingError  no index at the path: run `rag ingest`
    │   ├── IndexCorruptError  files unreadable or inconsistent
    │   ├── EmbedderMismatchError  index was built with another embedder
    │   └── StorageError       the index could not be written (disk full, read-only) (HTTP 507)
    ├── EmbedderError          the embedding backend failed to load or run  (exit 4, HTTP 500)
    ├── GeneratorError         the LLM backend is dead, slow or misbehaving (HTTP 502)
    └── GenerationCancelledError    the client left, so its LLM call was stopped  (HTTP 499)
"""

from __future__ import annotations

from typing import ClassVar


class RagError(Exception):
    """Base of every error the project raises on purpose."""

    code: str = "rag_error"
    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RagError):
    """A setting is invalid or names an unknown backend."""

    code = "config_error"
    exit_code = 2


class InputError(RagError):
    """The caller gave bad input: an empty or oversized question, a bad parameter.

    ``code`` says which input was bad; the CLI prints the message (exit 2, and the code in batch
    JSON), the HTTP API answers with the code and its status. ``rag.validate`` raises these.
    """

    code = "invalid_input"
    exit_code = 2
    http_status = 400
    # Every code an InputError carries, with its HTTP status (docs/api.md lists each one).
    CODES: ClassVar[dict[str, int]] = {
        "invalid_input": 400,
        "question_too_long": 400,
        "query_too_long": 400,
        "invalid_top_k": 400,
        "invalid_mode": 400,
        "unknown_generator": 400,
        "missing_filename": 400,
        "invalid_filename": 400,
        "upload_too_large": 413,
    }

    def __init__(self, message: str, code: str = "invalid_input") -> None:
        super().__init__(message)
        if code not in self.CODES:
            raise ValueError(f"unknown input error code {code!r}")
        self.code, self.http_status = code, self.CODES[code]


class NothingToIndexError(InputError):
    """An ingest read no document and no index existed: nothing was written.

    ``skipped`` holds the files that could not be read, for the caller to report."""

    def __init__(self, message: str, skipped: list[DocumentError]) -> None:
        super().__init__(message)
        self.skipped = skipped


class DocumentError(RagError):
    """One source document could not be read; ingest skips it and reports it."""

    code = "bad_document"
    exit_code = 2
    http_status = 415
    # "unsupported_file_type": the suffix names no format ingest reads; "bad_document": the content.
    CODES: ClassVar[tuple[str, ...]] = ("bad_document", "unsupported_file_type")

    def __init__(self, path: str, reason: str, code: str = "bad_document", listing: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        if code not in self.CODES:
            raise ValueError(f"unknown document error code {code!r}")
        self.path = path
        self.reason = reason
        self.code = code
        self.listing = listing  # a directory that could not be listed: the files under it went unseen


class IndexError_(RagError):  # noqa: N801, N818 - the builtin IndexError is taken
    """Base for problems with the index on disk."""

    code = "index_error"
    exit_code = 3
    http_status = 503


class IndexMissingError(IndexError_):
    """There is no index at the configured path."""

    code = "index_missing"


class IndexCorruptError(IndexError_):
    """The index exists but its files are unreadable or inconsistent."""

    code = "index_corrupt"


class EmbedderMismatchError(IndexError_):
    """The index was built with a different embedder than the one asked for."""

    code = "embedder_mismatch"


class StorageError(IndexError_):
    """Writing the index failed (disk full, read-only, permissions); the previous index is intact."""

    code = "storage_error"
    http_status = 507


class EmbedderError(RagError):
    """The embedding backend could not be loaded or failed while running."""

    code = "embedder_error"
    exit_code = 4


class GeneratorError(RagError):
    """The LLM backend failed: unreachable, timed out, 5xx, malformed or empty output."""

    code = "generator_error"
    exit_code = 5
    http_status = 502


class GenerationCancelledError(RagError):
    """The caller went away, so its LLM call was stopped (never retried, never falls back)."""

    code = "client_closed_request"
    exit_code = 130
    http_status = 499
