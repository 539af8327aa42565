"""Failures of the answer backend, refusals, and the real e5 seed index behind the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import app_client, free_port, parse_sse

pytestmark = pytest.mark.asyncio


def dead_llm(make_settings: Any) -> Any:
    """The openai generator pointed at a closed loopback port, without retries."""
    return make_settings(
        generator="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1", llm_retries=0, llm_timeout=2.0
    )


async def test_dead_llm_is_502_json_and_not_ready(make_settings: Any) -> None:
    async with app_client(dead_llm(make_settings)) as client:
        r = await client.post("/v1/ask", json={"question": "Какой товарооборот?"})
        assert r.status_code == 502 and r.json()["error"]["code"] == "generator_error"
        assert r.json()["error"]["message"] == "the answer generator failed; try again later"
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["generator"]["ok"] is False and ready.json()["error"]["code"] == "not_ready"
        # Another generator the service offers still answers.
        r = await client.post("/v1/ask", json={"question": "Какой товарооборот?", "generator": "extractive"})
        assert r.status_code == 200


async def test_dead_llm_mid_stream_is_an_error_event(make_settings: Any) -> None:
    async with app_client(dead_llm(make_settings)) as client:
        r = await client.post("/v1/ask", json={"question": "Какой товарооборот?", "stream": True})
        chat = await client.post(
            "/v1/chat/completions",
            json={"stream": True, "messages": [{"role": "user", "content": "Какой товарооборот?"}]},
        )
    assert r.status_code == 200
    events = parse_sse(r.text)
    assert [e.event for e in events] == ["error"]
    assert events[0].json()["error"]["code"] == "generator_error"
    chunks = parse_sse(chat.text)
    assert chunks[-1].json()["error"]["code"] == "generator_error"
    assert "[DONE]" not in chat.text


async def test_refusal_streams_a_refusal(make_settings: Any) -> None:
    async with app_client(make_settings(refusal_threshold=100.0)) as client:
        r = await client.post("/v1/ask", json={"question": "What is the capital of France?", "stream": True})
    events = parse_sse(r.text)
    assert [e.event for e in events][-2:] == ["citations", "done"]
    assert events[-2].json() == {"refused": True, "citations": [], "context": []}
    done = events[-1].json()
    assert done["refused"] is True and done["language"] == "en" and done["answer"]


async def test_seed_index_answers_a_known_fact_with_the_extractive_generator(seed_settings: Any) -> None:
    from rag.config import replace

    settings = replace(seed_settings, generator="extractive")
    async with app_client(settings) as client:
        r = await client.post("/v1/ask", json={"question": "Каким был товарооборот в январе–сентябре 2025 года?"})
        refused = await client.post("/v1/ask", json={"question": "Сколько стоит билет на Луну?"})
        stream = await client.post(
            "/v1/ask", json={"question": "Каким был товарооборот в январе–сентябре 2025 года?", "stream": True}
        )
    body = r.json()
    assert r.status_code == 200 and body["refused"] is False
    assert "3,39" in body["answer"]
    assert any("3,39" in c["text"] for c in body["citations"])
    assert refused.json()["refused"] is True
    assert parse_sse(stream.text)[-1].json()["answer"] == body["answer"]
