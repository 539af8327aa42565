"""The OpenAPI schema states the request limits this server enforces, so clients and test
generators (schemathesis) know them.

The limits are settings (``RAG_MAX_QUESTION_CHARS``, ``RAG_MAX_TOP_K``, ``RAG_MAX_BODY_BYTES``,
``RAG_MAX_UPLOAD_BYTES``, the generators a request may pick), so they cannot be ``msgspec.Meta``
constraints on the request Structs: those are fixed when the module is imported, and msgspec would
enforce them itself, as a ``422 invalid_request``, instead of the documented ``400
question_too_long`` or ``invalid_top_k`` that ``rag.validate`` gives the CLI and the API alike. So
the checks stay where they are and :func:`state_limits` writes the same numbers into the schema
Litestar generated for one app, once, when the app is built.

Where the two differ, the server is the looser one: a question is measured after surrounding
whitespace is removed, so ``"x" * 2000 + " "`` passes although its ``maxLength`` is 2000.
"""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)

from rag.answer.generate import offered_generators
from rag.api.routes.ask import AskRequest
from rag.api.routes.documents import MAX_FORM_PARTS, PREFIX
from rag.api.routes.openai import ChatRequest
from rag.api.routes.search import SearchRequest
from rag.config import SEARCH_MODES, Settings

JSON_ROUTES = ("/v1/ask", "/v1/search", "/v1/chat/completions")


def state_limits(schema: OpenAPI, settings: Settings) -> None:
    """Write the limits of ``settings`` into ``schema`` (an app's generated OpenAPI document)."""
    s, structs = settings, schema.components.schemas
    ask, search, chat = (structs[c.__name__] for c in (AskRequest, SearchRequest, ChatRequest))
    longest = s.max_question_chars
    chars = f"at most {longest} characters once surrounding whitespace is removed, and not blank"
    for struct, text in ((ask, "question"), (search, "query")):
        _limit(struct, text, OpenAPIType.STRING, f"{chars.capitalize()}.", min_length=1, max_length=longest)
    top_k = f"Passages to retrieve, from 1 to {s.max_top_k}; {s.top_k} when left out."
    for struct in (ask, search, chat):
        _limit(struct, "top_k", OpenAPIType.INTEGER, top_k, minimum=1, maximum=s.max_top_k)
    offered = list(offered_generators(s))
    _limit(ask, "generator", OpenAPIType.STRING, "One of the generators /v1/models lists.", enum=offered)
    _limit(search, "mode", OpenAPIType.STRING, f"{s.search_mode} when left out.", enum=list(SEARCH_MODES))
    chat.description = f"The question is the text of the last message with role 'user': {chars}."
    for path in JSON_ROUTES:
        body = _operation(schema, path).request_body
        if isinstance(body, RequestBody):
            body.description = f"A JSON object of at most {s.max_body_bytes} bytes (413 body_too_large)."
    _operation(schema, PREFIX).request_body = upload_body(s)


def upload_body(settings: Settings) -> RequestBody:
    """``POST /v1/documents``'s body, which the handler reads itself (so Litestar cannot describe it)."""
    size = settings.max_upload_bytes
    document = Schema(
        type=OpenAPIType.STRING,
        format=OpenAPIFormat.BINARY,
        max_length=size,
        description=f"The document's bytes, at most {size} (413 upload_too_large).",
    )
    form = Schema(
        type=OpenAPIType.OBJECT,
        properties={"file": document},
        required=["file"],
        description=f"At most {MAX_FORM_PARTS} parts (413 multipart_too_large); only 'file' is read.",
    )
    return RequestBody(
        required=True,
        description="The document, as a form field 'file' with its file name, or as the raw body with ?filename=.",
        content={
            "multipart/form-data": OpenAPIMediaType(schema=form),
            "application/octet-stream": OpenAPIMediaType(schema=document),
        },
    )


def _operation(schema: OpenAPI, path: str) -> Operation:
    operation = (schema.paths or {})[path].post
    assert operation is not None, f"no POST {path} in the schema"
    return operation


def _limit(struct: Schema | Reference, field: str, kind: OpenAPIType, description: str, **limits: Any) -> None:
    """Set ``limits`` on the ``kind`` alternative of ``field`` (which may also allow null)."""
    assert isinstance(struct, Schema) and struct.properties is not None
    prop = struct.properties[field]
    assert isinstance(prop, Schema)
    target = next(b for b in (prop.one_of or [prop]) if isinstance(b, Schema) and b.type == kind)
    for name, value in limits.items():
        setattr(target, name, value)
    prop.description = description
