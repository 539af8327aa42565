"""The OpenAPI schema states the request limits this server enforces, so clients and test
generators (schemathesis) know them, and what else Litestar cannot read off the handlers: the
body of an upload, which the handler reads itself, the streamed answers of ``/v1/ask`` and
``/v1/chat/completions``, and which operations need a key (:func:`state_security`).

The limits are settings (``RAG_MAX_QUESTION_CHARS``, ``RAG_MAX_TOP_K``, ``RAG_MAX_BODY_BYTES``,
``RAG_MAX_UPLOAD_BYTES``, the generators a request may pick), so they cannot be ``msgspec.Meta``
constraints on the request Structs: those are fixed when the module is imported, and msgspec would
enforce them itself, as a ``422 invalid_request``, instead of the documented ``400
question_too_long`` or ``invalid_top_k`` that ``rag.validate`` gives the CLI and the API alike. So
the checks stay where they are and :func:`complete_schema` writes the same numbers into the schema
Litestar generated for one app, once, when the app is built.

A question is measured after surrounding whitespace is removed, so ``"x" * 2000 + " "`` passes
although its ``maxLength`` is 2000; a blank one (``" "``) is refused, which ``minLength`` cannot say.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.routes import BaseRoute, HTTPRoute

from rag.answer.generate import offered_generators
from rag.api.auth import key_needed
from rag.api.routes.ask import AskRequest
from rag.api.routes.documents import MAX_FORM_PARTS, PREFIX
from rag.api.routes.openai import ChatRequest
from rag.api.routes.search import SearchRequest
from rag.config import SEARCH_MODES, Settings

JSON_ROUTES = ("/v1/ask", "/v1/search", "/v1/chat/completions")
# Routes that stream with "stream": true, and the names of their events (None: unnamed, as OpenAI's).
STREAMS = {"/v1/ask": ["delta", "citations", "done", "error"], "/v1/chat/completions": None}
BEARER = "bearer"
BEARER_SCHEME = SecurityScheme(
    type="http",
    scheme="bearer",
    description="An API key, sent as 'Authorization: Bearer <key>': a query key (RAG_API_KEYS), a widget key "
    "from one of its page origins (RAG_WIDGET_KEYS), or an admin key (RAG_ADMIN_KEYS), which operations "
    "naming the role 'admin' need. A missing or unknown key is 401 unauthorized, a key without the role 403.",
)


def complete_schema(schema: OpenAPI, settings: Settings) -> None:
    """Write the limits of ``settings``, the upload's body and the streams into ``schema`` (an
    app's generated OpenAPI document)."""
    _field_limits(schema, settings)
    for path in JSON_ROUTES:
        body = _operation(schema, path).request_body
        if isinstance(body, RequestBody):
            body.description = f"A JSON object of at most {settings.max_body_bytes} bytes (413 body_too_large)."
    _operation(schema, PREFIX).request_body = upload_body(settings)
    for path, names in STREAMS.items():
        answer = (_operation(schema, path).responses or {})["200"]
        if isinstance(answer, OpenAPIResponse) and answer.content is not None:
            answer.content["text/event-stream"] = OpenAPIMediaType(schema=sse_event(names))


def state_security(schema: OpenAPI, routes: Iterable[BaseRoute], keyed: bool) -> None:
    """An HTTP bearer scheme, and on each operation of ``routes`` the key the auth guard asks for:
    any key, or an admin key (the role "admin", which OpenAPI 3.1 allows on any scheme); none on
    public operations, and none at all when no keys are configured (``keyed`` False): then no
    operation answers 401 either."""
    if not keyed:
        for path_item in (schema.paths or {}).values():
            for method in ("get", "post", "put", "patch", "delete"):
                operation = getattr(path_item, method, None)
                if isinstance(operation, Operation) and operation.responses:
                    operation.responses.pop("401", None)
        return
    schema.components.security_schemes = {BEARER: BEARER_SCHEME}
    for route in routes:
        path = route.path_format or "/"
        item = (schema.paths or {}).get(path)
        if item is None or not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            needed = key_needed(path, handler.opt)
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if isinstance(operation, Operation) and needed is not None:
                    operation.security = [{BEARER: ["admin"] if needed == "admin" else []}]


def _field_limits(schema: OpenAPI, s: Settings) -> None:
    ask, search, chat = (schema.components.schemas[c.__name__] for c in (AskRequest, SearchRequest, ChatRequest))
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
    messages = chat.properties["messages"] if chat.properties else None
    if isinstance(messages, Schema):  # no user message with text is 400 invalid_input
        messages.min_items = 1
        content = Schema(
            one_of=[Schema(type=OpenAPIType.STRING, min_length=1), Schema(type=OpenAPIType.ARRAY, min_items=1)]
        )
        messages.contains = Schema(
            type=OpenAPIType.OBJECT,
            properties={"role": Schema(const="user"), "content": content},
            required=["role", "content"],
        )


def sse_event(names: list[str] | None) -> Schema:
    """One Server-Sent Event of a stream (its ``event`` name and its ``data``, a JSON text)."""
    event = Schema(type=OpenAPIType.STRING, enum=names) if names else Schema(type=OpenAPIType.STRING)
    return Schema(
        type=OpenAPIType.OBJECT,
        properties={"event": event, "data": Schema(type=OpenAPIType.STRING)},
        required=["data"],
        description='With "stream": true, one Server-Sent Event; docs/api.md describes each.',
    )


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
