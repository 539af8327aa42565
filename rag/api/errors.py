"""Every failure leaves the service as ``{"error": {"code", "message"}}`` with a stable code.

Project errors (``rag.errors``) keep their own code and HTTP status; those about the server's own
parts (index, embedder, LLM backend, settings) are logged and answered with a fixed message, since
their text names paths, URLs and upstream replies. Litestar's HTTP errors are mapped to codes by
status; anything unexpected is logged with its traceback here and answered with a bare
``internal_error``, so no traceback or exception text ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi import ResponseSpec

from rag.errors import RagError

log = logging.getLogger(__name__)

# Codes for Litestar's own HTTP errors, by status.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


# Errors whose messages name files, URLs, hosts or an upstream server's reply (which may quote the
# start of its API key): the detail goes to the log, a caller gets the code and one of these.
PUBLIC_MESSAGES = {
    "generator_error": "the answer generator failed; try again later",
    "index_missing": "the service has no index yet",
    "index_corrupt": "the index cannot be read; an operator has to rebuild it",
    "embedder_mismatch": "the index was built with another embedder; an operator has to rebuild it",
    "index_error": "the index cannot be used",
    "storage_error": "the index could not be written (is the disk full?); the previous index is still served",
    "embedder_error": "the embedder failed",
    "config_error": "the service is misconfigured",
    "rag_error": "internal server error",
}


def public_message(code: str, message: str) -> str:
    """What a caller may read of an error with ``code``; details of internal ones are logged here."""
    public = PUBLIC_MESSAGES.get(code)
    if public is None:
        return message
    log.warning("%s: %s", code, message)
    return public


def public_body(body: dict[str, Any]) -> dict[str, Any]:
    """An ``{"error": {"code", "message"}}`` body with the message made safe to send."""
    error = body.get("error", {})
    code = str(error.get("code", "internal_error"))
    return error_body(code, public_message(code, str(error.get("message", ""))))


class ApiError(Exception):
    """An error raised by the API layer itself (auth, limits, bad parameters)."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


class ErrorDetail(msgspec.Struct):
    """What went wrong: a stable ``code`` and a ``message`` for people."""

    code: str
    message: str


class ErrorBody(msgspec.Struct):
    """The body of every error response, as the OpenAPI schema documents it."""

    error: ErrorDetail


def error_responses(*statuses: int, keyed: bool = True) -> dict[int, ResponseSpec]:
    """OpenAPI responses with the error body for ``statuses``, for 400 (any route: a foreign Host
    name) and, on routes that need a key, for 401, 403 and 429; they replace Litestar's own 400,
    which describes a body this API never sends."""
    every = sorted({400, *statuses, *((401, 403, 429) if keyed else ())})
    return {
        s: ResponseSpec(
            data_container=ErrorBody,
            description=f"{HTTPStatus(s).phrase}: the error's code and message (docs/api.md lists the codes)",
            generate_examples=False,
        )
        for s in every
    }


def error_body(code: str, message: str) -> dict[str, Any]:
    """The JSON body of every error response (also the payload of an SSE ``error`` event)."""
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response[Any]:
    """A JSON error response."""
    return Response(error_body(code, message), status_code=status, headers=dict(headers or {}))


def describe(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) for any exception, safe to show a client."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, RagError):
        return exc.http_status, exc.code, public_message(exc.code, exc.message)
    if isinstance(exc, UnicodeDecodeError):  # raised by the JSON decoder on a body that is not UTF-8
        return 400, "invalid_json", "the request body is not valid UTF-8 JSON"
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):  # msgspec on [[[[... or {"a":{"a":...
        return 400, "invalid_json", "the request body is nested too deeply"
    if isinstance(exc, ValidationException):
        if any(isinstance(p, dict) and p.get("message") == "'data'" for p in exc.extra or []):
            return 400, "invalid_json", "the request body is empty: send a JSON object"
        return 422, "invalid_request", _validation_message(exc)
    if isinstance(exc, HTTPException):
        detail = str(exc.detail)
        if exc.status_code == 400 and _caused_by_decoding(exc):
            return 400, "invalid_json", "the request body is not valid JSON"
        if exc.status_code == 413:
            return 413, "body_too_large", "the request body is too large"
        if exc.status_code >= 500:
            return exc.status_code, "internal_error", "internal server error"
        return exc.status_code, STATUS_CODES.get(exc.status_code, "http_error"), detail
    return 500, "internal_error", "internal server error"


def _caused_by_decoding(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):  # Litestar wraps msgspec's DecodeError once or twice
        if seen is None:
            return False
        if isinstance(seen, (msgspec.DecodeError, SerializationException)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _validation_message(exc: ValidationException) -> str:
    problems = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for p in problems:
        if isinstance(p, dict):
            key = p.get("key")
            where = "body" if key in (None, "data") else f"field {key!r}"
            parts.append(f"{where}: {p.get('message', 'invalid')}")
    return "invalid request: " + ("; ".join(parts) if parts else "the body does not match the schema")


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar exception handler for every exception type."""
    status, code, message = describe(exc)
    if status >= 500 and not isinstance(exc, RagError):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    headers = exc.headers if isinstance(exc, ApiError) else {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers = dict(exc.headers)
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return error_response(status, code, message, headers)


EXCEPTION_HANDLERS = {Exception: handle_exception}
