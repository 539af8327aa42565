"""The endpoints, driven through the real app with AsyncTestClient."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import SCRIPT, app_client, parse_sse

pytestmark = pytest.mark.asyncio
QUESTION = "Какой объём товарооборота между Казахстаном и Узбекистаном?"


async def test_ask_returns_the_answer_object(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        r = await client.post("/v1/ask", json={"question": QUESTION, "top_k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert {"question", "answer", "refused", "citations", "context", "generator", "timings"} <= set(body)
    assert body["generator"] == "echo" and body["answer"]
    assert len(body["context"]) <= 3
    for c in body["citations"]:
        assert {"n", "chunk_id", "doc_id", "source", "text", "score", "start", "end"} <= set(c)
    assert r.headers["x-index-version"]


async def test_ask_stream_follows_the_wire_format(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        plain = (await client.post("/v1/ask", json={"question": QUESTION})).json()
        r = await client.post("/v1/ask", json={"question": QUESTION, "stream": True})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    kinds = [e.event for e in events]
    assert kinds[-2:] == ["citations", "done"] and set(kinds[:-2]) == {"delta"}, kinds
    text = "".join(e.json()["text"] for e in events if e.event == "delta")
    done = events[-1].json()
    cites = events[-2].json()
    assert set(cites) == {"refused", "citations", "context"}
    assert done["answer"] == text == plain["answer"]
    assert cites["citations"] == done["citations"] == plain["citations"]
    assert {k: v for k, v in done.items() if k != "timings"} == {k: v for k, v in plain.items() if k != "timings"}


async def test_ask_with_another_generator_and_unknown_generator(make_settings: Any) -> None:
    async with app_client(make_settings(generator="extractive", api_generators=("extractive", "echo"))) as client:
        r = await client.post("/v1/ask", json={"question": QUESTION, "generator": "echo"})
        assert r.status_code == 200 and r.json()["generator"] == "echo"
        r = await client.post("/v1/ask", json={"question": QUESTION, "generator": "gpt-99"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_generator" and "extractive" in r.json()["error"]["message"]


async def test_a_request_cannot_pick_a_backend_the_operator_did_not_offer(make_settings: Any) -> None:
    """Picking ``anthropic`` on a server set up for ``extractive`` would send the question and the
    retrieved passages to api.anthropic.com: only the configured generator and extractive are
    offered unless RAG_API_GENERATORS names more."""
    chat = {"messages": [{"role": "user", "content": QUESTION}]}
    async with app_client(make_settings(generator="extractive")) as client:
        picked = await client.post("/v1/ask", json={"question": QUESTION, "generator": "anthropic"})
        test_double = await client.post("/v1/ask", json={"question": QUESTION, "generator": "echo"})
        models = (await client.get("/v1/models")).json()
        via_chat = (await client.post("/v1/chat/completions", json={**chat, "model": "anthropic"})).json()
    assert picked.status_code == test_double.status_code == 400
    assert picked.json()["error"] == {
        "code": "unknown_generator",
        "message": "this service does not offer generator 'anthropic'; it offers: extractive",
    }
    assert [m["id"] for m in models["data"]] == ["extractive"]
    assert via_chat["model"] == "extractive" and via_chat["object"] == "chat.completion"


async def test_search(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        r = await client.post("/v1/search", json={"query": "товарооборот", "top_k": 4, "mode": "lexical"})
        assert r.status_code == 200
        passages = r.json()["passages"]
        assert [p["rank"] for p in passages] == [1, 2, 3, 4]
        assert "товарооборот" in passages[0]["text"].lower()
        assert {"rank", "score", "chunk_id", "doc_id", "source", "text"} <= set(passages[0])
        r = await client.post("/v1/search", json={"query": "товарооборот", "mode": "fuzzy"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_mode"


async def test_documents_upload_list_delete(make_settings: Any) -> None:
    text = "# Мост\n\nВ Ташкенте открыли подвесной мост имени Фиолетового Жирафа длиной 777 метров."
    async with app_client(make_settings(), headers=SCRIPT) as client:
        before = (await client.get("/v1/documents")).json()["documents"]
        assert [d["doc_id"] for d in before] == ["kazakhstan-uzbekistan.ru.txt"]
        r = await client.post("/v1/documents", files={"file": ("bridge.md", text.encode(), "text/markdown")})
        assert r.status_code == 201, r.text
        assert r.json()["report"]["added"] == ["bridge.md"]
        hit = (await client.post("/v1/search", json={"query": "Фиолетового Жирафа", "top_k": 1})).json()
        assert hit["passages"][0]["doc_id"] == "bridge.md"  # the swap is visible at once
        # The raw-body form, with the name in the query string.
        r = await client.post("/v1/documents?filename=notes.txt", content="Заметка о жирафах.".encode())
        assert r.status_code == 201
        ids = {d["doc_id"] for d in (await client.get("/v1/documents")).json()["documents"]}
        assert ids == {"kazakhstan-uzbekistan.ru.txt", "bridge.md", "notes.txt"}
        r = await client.delete("/v1/documents/bridge.md")
        assert r.status_code == 200 and r.json()["report"]["removed"] == ["bridge.md"]
        hit = (await client.post("/v1/search", json={"query": "Фиолетового Жирафа", "top_k": 3})).json()
        assert all(p["doc_id"] != "bridge.md" for p in hit["passages"])
        r = await client.delete("/v1/documents/bridge.md")
    assert r.status_code == 404 and r.json()["error"]["code"] == "document_not_found"


async def test_health_ready_metrics_schema(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["index"]["ok"] is True
        await client.post("/v1/ask", json={"question": QUESTION})
        await client.post("/v1/ask", json={"question": ""})
        metrics = (await client.get("/metrics")).text
        schema = (await client.get("/schema/openapi.json")).json()
    assert 'rag_http_requests_total{method="POST",route="/v1/ask",status="200"} 1.0' in metrics
    assert 'rag_http_requests_total{method="POST",route="/v1/ask",status="400"} 1.0' in metrics
    assert "rag_http_request_duration_seconds_bucket" in metrics
    assert 'rag_answers_total{generator="echo",outcome="answered"} 1.0' in metrics
    assert "rag_stage_duration_seconds_count" in metrics and "rag_generated_tokens_total" in metrics
    assert "/v1/ask" in schema["paths"] and "/v1/chat/completions" in schema["paths"]


async def test_missing_index_is_503_json_and_can_be_created_by_upload(make_settings: Any, tmp_path: Any) -> None:
    settings = make_settings(index_dir=tmp_path / "empty")
    async with app_client(settings, headers=SCRIPT) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["index"]["code"] == "index_missing"
        r = await client.post("/v1/ask", json={"question": QUESTION})
        assert r.status_code == 503 and r.json()["error"]["code"] == "index_missing"
        r = await client.post("/v1/documents?filename=a.txt", content="Столица Узбекистана — Ташкент.".encode())
        assert r.status_code == 201
        assert (await client.get("/readyz")).status_code == 200
        r = await client.post("/v1/search", json={"query": "столица Узбекистана"})
    assert r.json()["passages"][0]["doc_id"] == "a.txt"


async def test_models_and_chat_completion(make_settings: Any) -> None:
    async with app_client(make_settings()) as client:
        models = (await client.get("/v1/models")).json()
        assert models["object"] == "list" and models["data"][0]["id"] == "echo"
        assert {"extractive", "echo"} <= {m["id"] for m in models["data"]}
        messages = [
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": "старый вопрос"},
            {"role": "assistant", "content": "..."},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        ]
        r = await client.post("/v1/chat/completions", json={"model": "no-such-model", "messages": messages})
        ask = (await client.post("/v1/ask", json={"question": QUESTION})).json()
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["object"] == "chat.completion" and body["model"] == "echo"
        assert body["choices"][0]["message"] == {"role": "assistant", "content": ask["answer"]}
        assert body["citations"] == ask["citations"] and body["usage"]["completion_tokens"] > 0
        r = await client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "x"}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"
