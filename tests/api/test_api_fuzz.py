"""Property-based fuzzing of the HTTP API (hypothesis): whatever JSON, text, bytes and file names a
client sends, every answer is a JSON object of the documented shape and never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.api.conftest import SCRIPT

# Text as hostile clients write it: any code point, including control characters and lone halves
# of UTF-16 pairs (JSON allows "\udcff"), long runs of one character and empty strings.
CHARS = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.sampled_from(list("\x00\x1b\n\r\t\u2028\ufeff\u200b[]1.?")),
)
TEXT = st.one_of(st.text(CHARS, max_size=60), st.text(CHARS, min_size=1, max_size=3).map(lambda s: s * 800))
# JSON has no NaN or infinity: httpx refuses to encode them, so such an example never reached the server.
NUMBER = st.floats(allow_nan=False, allow_infinity=False)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), NUMBER, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)
EXAMPLES = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)


@pytest.fixture
def client(make_settings: Any) -> Iterator[TestClient[Any]]:
    from rag.api import create_app

    app = create_app(make_settings(generator="extractive", rate_limit_per_minute=0, upload_job_bytes=10_000_000))
    with TestClient(app=app, base_url="http://127.0.0.1") as c:
        yield c


def _check(r: Any) -> Any:
    assert r.status_code < 500, (r.status_code, r.text[:500])
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        return None
    body = r.json()
    assert isinstance(body, dict)
    if r.status_code >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body


def test_ask_search_and_chat_take_any_json(client: TestClient[Any]) -> None:
    @EXAMPLES
    @given(
        question=st.one_of(TEXT, TEXT, TEXT, st.text(min_size=1, max_size=80), JSON_VALUE),
        top_k=st.one_of(st.none(), st.none(), st.integers(-3, 60), JSON_VALUE),
        extra=st.one_of(
            st.just({}),
            st.just({"stream": True}),
            st.dictionaries(st.sampled_from(["generator", "mode", "stream", "model", "x"]), JSON_VALUE, max_size=2),
        ),
    )
    def run(question: Any, top_k: Any, extra: dict[str, Any]) -> None:
        ask = {"question": question, **({"top_k": top_k} if top_k is not None else {}), **extra}
        _check(client.post("/v1/ask", json=ask))
        search = {"query": question, **({"top_k": top_k} if top_k is not None else {}), **extra}
        _check(client.post("/v1/search", json=search))
        chat = {"messages": [{"role": "user", "content": question}], **extra}
        _check(client.post("/v1/chat/completions", json=chat))

    run()


def test_raw_bodies_are_refused_cleanly(client: TestClient[Any]) -> None:
    @EXAMPLES
    @given(body=st.binary(max_size=300), path=st.sampled_from(["/v1/ask", "/v1/search", "/v1/chat/completions"]))
    def run(body: bytes, path: str) -> None:
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        _check(r)
        try:
            json.loads(body)
        except ValueError:
            assert r.status_code == 400

    run()


def test_uploads_with_any_name_and_bytes(client: TestClient[Any]) -> None:
    name = st.one_of(
        TEXT,
        st.text(min_size=1, max_size=40).map(lambda s: s + ".txt"),
        st.sampled_from(["../x.txt", "a/b\\c.md", "x.pdf", "y.docx", ".txt", "CON", "a" * 300]),
    )
    data = st.one_of(
        st.binary(max_size=400),
        st.text(min_size=20, max_size=300).map(str.encode),
        st.text(CHARS, max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.sampled_from([b"%PDF-1.4 garbage", b"PK\x03\x04broken zip", "Текст документа.".encode()]),
    )

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(name=name, data=data, raw=st.booleans())
    def run(name: str, data: bytes, raw: bool) -> None:
        if raw:
            r = client.post("/v1/documents", params={"filename": name}, content=data, headers=SCRIPT)
        else:
            r = client.post("/v1/documents", files={"file": (name, data)}, headers=SCRIPT)
        body = _check(r)
        if r.status_code == 201:
            doc_id = body["doc_id"]
            assert doc_id and "/" not in doc_id and all(c >= " " for c in doc_id)
            gone = client.delete(f"/v1/documents/{quote(doc_id, safe='')}", headers=SCRIPT)
            assert _check(gone)["doc_id"] == doc_id, gone.text

    run()
