"""What each HTTP backend sends, and a check of the fake OpenAI server with the official client."""

from __future__ import annotations

import dataclasses

import openai
import pytest

from rag.answer.generate import get_generator
from rag.config import Settings
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION
from tests.answer.llm_fakes import FakeLLM, LoopbackLLM, base_url_settings


def _send(name: str, settings: Settings, fake: FakeLLM, passages: list[Passage], **overrides: object) -> dict:  # type: ignore[type-arg]
    settings = dataclasses.replace(settings, **base_url_settings(name, "http://llm.test"), **overrides)
    with fake.mock_client() as client, get_generator(name, settings, client=client) as gen:
        "".join(gen.stream(TRADE_QUESTION, passages, "en"))
    return fake.requests[-1]


def test_openai_request(unit_settings: Settings, fake_llm: FakeLLM, passages: list[Passage]) -> None:
    req = _send(
        "openai", unit_settings, fake_llm, passages, openai_api_key="sk-test", openai_model="qwen", llm_temperature=0.3
    )
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test"
    body = req["json"]
    assert body["model"] == "qwen" and body["stream"] is True and body["temperature"] == 0.3
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert "[1] Article\nТолько за период" in user and "[3] Article" in user
    assert TRADE_QUESTION in user and "Answer in English" in user


def test_openai_without_key_sends_no_authorization(
    unit_settings: Settings, fake_llm: FakeLLM, passages: list[Passage]
) -> None:
    assert "authorization" not in _send("openai", unit_settings, fake_llm, passages)["headers"]


def test_ollama_request(unit_settings: Settings, fake_llm: FakeLLM, passages: list[Passage]) -> None:
    req = _send("ollama", unit_settings, fake_llm, passages, ollama_model="llama3.1", llm_max_tokens=99)
    assert req["path"] == "/api/chat"
    assert req["json"]["model"] == "llama3.1" and req["json"]["options"]["num_predict"] == 99


def test_anthropic_request(unit_settings: Settings, fake_llm: FakeLLM, passages: list[Passage]) -> None:
    req = _send("anthropic", unit_settings, fake_llm, passages, anthropic_api_key="k-1", anthropic_model="claude-x")
    assert req["path"] == "/v1/messages"
    assert req["headers"]["x-api-key"] == "k-1" and req["headers"]["anthropic-version"] == "2023-06-01"
    body = req["json"]
    assert body["model"] == "claude-x" and body["max_tokens"] == unit_settings.llm_max_tokens
    assert "only the numbered passages" in body["system"]
    assert body["messages"][0]["role"] == "user" and "[1]" in body["messages"][0]["content"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fake_openai_server_speaks_what_the_official_client_parses(
    unit_settings: Settings, fake_llm: FakeLLM, passages: list[Passage]
) -> None:
    """Keeps the loopback fake honest: the official client and our backend read the same answer."""
    server = LoopbackLLM(fake_llm)
    try:
        settings = dataclasses.replace(unit_settings, openai_base_url=server.url + "/v1")
        with get_generator("openai", settings) as gen:
            ours = "".join(gen.stream(TRADE_QUESTION, passages, "ru"))
        messages = fake_llm.requests[-1]["json"]["messages"]
        with openai.OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0) as client:
            chunks = client.chat.completions.create(model="m", messages=messages, stream=True)
            theirs = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert ours == theirs and "3,39" in ours
    finally:
        server.close()
