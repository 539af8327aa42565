"""The OpenAPI schema states the request limits the server enforces, with this server's settings."""

from __future__ import annotations

from typing import Any

import pytest

from rag.config import SEARCH_MODES
from tests.api.conftest import SCRIPT, app_client, parse_sse

pytestmark = pytest.mark.asyncio


def branch(prop: dict[str, Any], kind: str) -> dict[str, Any]:
    """The ``kind`` alternative of a property that may also be null."""
    return next(p for p in prop.get("oneOf", [prop]) if p.get("type") == kind)


def assert_error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


async def test_the_schema_states_the_limits_that_are_enforced(make_settings: Any) -> None:
    settings = make_settings(max_question_chars=100, max_top_k=5, max_upload_bytes=1000, api_generators=("echo",))
    async with app_client(settings, headers=SCRIPT) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        ask = schema["components"]["schemas"]["AskRequest"]["properties"]
        longest, top_k = ask["question"]["maxLength"], branch(ask["top_k"], "integer")
        assert (longest, top_k["minimum"], top_k["maximum"]) == (100, 1, 5)
        assert (await client.post("/v1/ask", json={"question": "я" * longest})).status_code == 200
        assert_error(await client.post("/v1/ask", json={"question": "я" * (longest + 1)}), 400, "question_too_long")
        question = {"question": "Ташкент"}
        assert (await client.post("/v1/ask", json={**question, "top_k": top_k["maximum"]})).status_code == 200
        for k in (top_k["maximum"] + 1, top_k["minimum"] - 1):
            assert_error(await client.post("/v1/ask", json={**question, "top_k": k}), 400, "invalid_top_k")
        assert branch(ask["generator"], "string")["enum"] == ["echo"]
        assert_error(
            await client.post("/v1/ask", json={**question, "generator": "extractive"}), 400, "unknown_generator"
        )

        search = schema["components"]["schemas"]["SearchRequest"]["properties"]
        assert search["query"]["maxLength"] == longest and branch(search["top_k"], "integer") == top_k
        assert branch(search["mode"], "string")["enum"] == list(SEARCH_MODES)
        chat = schema["components"]["schemas"]["ChatRequest"]["properties"]
        assert branch(chat["top_k"], "integer") == top_k
        assert (
            chat["messages"]["minItems"] == 1 and chat["messages"]["contains"]["properties"]["role"]["const"] == "user"
        )
        chat_body = {"messages": [{"role": "assistant", "content": "Ташкент"}]}
        assert_error(await client.post("/v1/chat/completions", json=chat_body), 400, "invalid_input")

        upload = schema["paths"]["/v1/documents"]["post"]["requestBody"]["content"]
        biggest = upload["multipart/form-data"]["schema"]["properties"]["file"]["maxLength"]
        assert biggest == upload["application/octet-stream"]["schema"]["maxLength"] == 1000
        r = await client.post("/v1/documents", files={"file": ("fits.txt", b"a" * biggest)})
        assert r.status_code == 201, r.text
        r = await client.post("/v1/documents", files={"file": ("over.txt", b"a" * (biggest + 1))})
        assert_error(r, 413, "upload_too_large")
        r = await client.post("/v1/documents?filename=over.txt", content=b"a" * (biggest + 1))
        assert_error(r, 413, "upload_too_large")


async def test_the_default_limits_are_in_the_schema(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    ask = schema["components"]["schemas"]["AskRequest"]["properties"]
    assert ask["question"]["maxLength"] == 2000 and branch(ask["top_k"], "integer")["maximum"] == 50
    upload = schema["paths"]["/v1/documents"]["post"]["requestBody"]
    assert upload["content"]["multipart/form-data"]["schema"]["properties"]["file"]["maxLength"] == 50_000_000
    assert "1000000 bytes" in schema["paths"]["/v1/ask"]["post"]["requestBody"]["description"]


def conforms(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """Whether ``value`` fits ``schema`` (the JSON Schema subset the error responses use)."""
    if "$ref" in schema:
        return conforms(value, root["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], root)
    kind = schema.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        props = schema.get("properties", {})
        return (
            isinstance(value, dict)
            and all(k in value for k in schema.get("required", []))
            and all(conforms(v, props[k], root) for k, v in value.items() if k in props)
        )
    return kind is None


# One real error of each operation: (method, path template, path, request arguments, status).
ERRORS = [
    ("post", "/v1/ask", "/v1/ask", {"json": {"question": "Кто?", "top_k": 0}}, 400),
    ("post", "/v1/ask", "/v1/ask", {"json": {"question": 42}}, 422),
    ("post", "/v1/ask", "/v1/ask", {"json": {"question": "Кто?"}, "headers": {"Authorization": "Bearer no"}}, 401),
    ("post", "/v1/search", "/v1/search", {"content": b""}, 400),
    ("post", "/v1/search", "/v1/search", {"json": {"query": "q" * 3000}}, 413),
    ("post", "/v1/chat/completions", "/v1/chat/completions", {"json": {"messages": []}}, 400),
    ("get", "/v1/models", "/v1/models", {"headers": {"Authorization": ""}}, 401),
    ("get", "/v1/documents", "/v1/documents", {"headers": {"Authorization": "Bearer qk"}}, 403),
    ("post", "/v1/documents", "/v1/documents", {"files": {"file": ("a.png", b"\x89PNG")}}, 415),
    ("post", "/v1/documents", "/v1/documents", {"content": b"x"}, 400),
    ("delete", "/v1/documents/{doc_id}", "/v1/documents/nothing.txt", {}, 404),
    ("get", "/v1/jobs/{job_id}", "/v1/jobs/nothing", {}, 404),
    ("get", "/healthz", "/healthz", {"headers": {"Host": "rebound.example"}}, 400),
]


async def test_errors_are_documented_with_the_body_they_have(make_settings: Any) -> None:
    settings = make_settings(api_keys=("qk",), admin_keys=("ak",), allowed_hosts=("rag.example",), max_body_bytes=2000)
    async with app_client(settings, headers={"Authorization": "Bearer ak"}) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        for method, template, path, kwargs, status in ERRORS:
            r = await client.request(method.upper(), path, **kwargs)
            assert r.status_code == status, (method, path, r.text)
            documented = schema["paths"][template][method]["responses"]
            assert str(status) in documented, (method, path, status, sorted(documented))
            body = documented[str(status)]["content"]["application/json"]["schema"]
            assert conforms(r.json(), body, schema), (method, path, body)
            assert not conforms({"status_code": status, "detail": "x"}, body, schema)  # not Litestar's own shape


async def test_streamed_answers_are_documented(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        for path, body in (
            ("/v1/ask", {"question": "Ташкент", "stream": True}),
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Ташкент"}], "stream": True}),
        ):
            r = await client.post(path, json=body)
            assert r.status_code == 200
            media_type = r.headers["content-type"].split(";")[0]
            documented = schema["paths"][path]["post"]["responses"]["200"]["content"]
            assert media_type in documented, (path, media_type)
            names = documented[media_type]["schema"]["properties"]["event"].get("enum")
            events = parse_sse(r.text)
            assert events and all(names is None or e.event in names for e in events), (path, names, events[:3])


async def test_options_lists_the_methods_the_schema_has(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        for template, operations in schema["paths"].items():
            path = template.replace("{doc_id}", "a.txt").replace("{job_id}", "j1")
            r = await client.options(path)
            assert r.status_code == 204, (path, r.text)
            assert sorted(r.headers["allow"].split(", ")) == sorted([*(m.upper() for m in operations), "OPTIONS"]), path


async def test_the_schema_says_which_key_each_operation_needs(make_settings: Any) -> None:
    """Every operation the schema marks as needing a key is refused without one, and only those;
    those that need an admin key are refused a query key."""
    settings = make_settings(api_keys=("qk",), admin_keys=("ak",), widget_keys=("wk@https://site.example",))
    async with app_client(settings, headers=SCRIPT) as client:
        schema = (await client.get("/schema/openapi.json")).json()
        assert schema["openapi"].startswith("3.1")  # role names in a bearer requirement need 3.1
        scheme = schema["components"]["securitySchemes"]["bearer"]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        needs = {}
        for template, operations in schema["paths"].items():
            path = template.replace("{doc_id}", "nothing.txt").replace("{job_id}", "j1")
            for method, operation in operations.items():
                security = operation.get("security")
                assert security in (None, [{"bearer": []}], [{"bearer": ["admin"]}]), (method, template, security)
                needs[f"{method.upper()} {template}"] = security[0]["bearer"] if security else None
                assert ("401" in operation["responses"]) == bool(security), (method, template)
                anonymous = await client.request(method.upper(), path)
                if security is None:
                    assert anonymous.status_code not in (401, 403), (method, template, anonymous.text)
                    continue
                assert_error(anonymous, 401, "unauthorized")
                query = await client.request(method.upper(), path, headers={"Authorization": "Bearer qk"})
                admin = await client.request(method.upper(), path, headers={"Authorization": "Bearer ak"})
                assert admin.status_code not in (401, 403), (method, template, admin.text)
                if security == [{"bearer": ["admin"]}]:
                    assert_error(query, 403, "forbidden")
                else:
                    assert query.status_code not in (401, 403), (method, template, query.text)
    assert needs == {
        "POST /v1/ask": [],
        "POST /v1/search": [],
        "POST /v1/chat/completions": [],
        "GET /v1/models": [],
        "GET /v1/documents": ["admin"],
        "POST /v1/documents": ["admin"],
        "DELETE /v1/documents/{doc_id}": ["admin"],
        "GET /v1/jobs/{job_id}": ["admin"],
        "GET /healthz": None,
        "GET /readyz": None,
        "GET /metrics": None,
    }


async def test_a_server_without_keys_asks_for_none_in_its_schema(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    assert "securitySchemes" not in schema.get("components", {})
    assert not [(p, m) for p, ops in schema["paths"].items() for m, op in ops.items() if "security" in op]
    assert not [(p, m) for p, ops in schema["paths"].items() for m, op in ops.items() if "401" in op["responses"]]
