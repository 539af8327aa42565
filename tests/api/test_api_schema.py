"""The OpenAPI schema states the request limits the server enforces, with this server's settings."""

from __future__ import annotations

from typing import Any

import pytest

from rag.config import SEARCH_MODES
from tests.api.conftest import SCRIPT, app_client

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
