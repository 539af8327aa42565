"""One contract, every generator backend: the same question and passages, the same expectations.

HTTP backends run twice: against httpx.MockTransport and against a real loopback server that
speaks their API. A backend added to the registry without a factory here fails the coverage test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from rag.answer.generate import REGISTRY, Generator, get_generator
from rag.config import Settings
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION
from tests.answer.llm_fakes import FakeLLM, LoopbackLLM, base_url_settings

HTTP_BACKENDS = ["openai", "ollama", "anthropic"]
LOCAL_BACKENDS = ["extractive", "echo"]
CASES = [(n, "local") for n in LOCAL_BACKENDS] + [(n, t) for n in HTTP_BACKENDS for t in ("mock", "loopback")]


def test_every_registered_backend_is_under_contract() -> None:
    assert {name for name, _ in CASES} == set(REGISTRY)


@pytest.fixture(params=CASES, ids=[f"{n}-{t}" for n, t in CASES])
def backend(request: pytest.FixtureRequest, unit_settings: Settings, fake_llm: FakeLLM) -> Iterator[Generator]:
    name, transport = request.param
    if transport == "local":
        with get_generator(name, unit_settings) as gen:
            yield gen
        return
    if transport == "mock":
        settings = dataclasses.replace(unit_settings, **base_url_settings(name, "http://llm.test"))
        with fake_llm.mock_client() as client, get_generator(name, settings, client=client) as gen:
            yield gen
        return
    server = LoopbackLLM(fake_llm)
    try:
        settings = dataclasses.replace(unit_settings, **base_url_settings(name, server.url))
        with get_generator(name, settings) as gen:
            yield gen
    finally:
        server.close()


def test_name_matches_registry(backend: Generator) -> None:
    assert REGISTRY.get(backend.name) is type(backend)


def test_streams_an_answer_quoting_and_citing_passage_one(backend: Generator, passages: list[Passage]) -> None:
    pieces = list(backend.stream(TRADE_QUESTION, passages, "ru"))
    assert pieces and all(isinstance(p, str) and p for p in pieces)
    text = "".join(pieces)
    assert "3,39 млрд долларов" in text
    assert "[1]" in text


def test_unknown_generator_lists_known_names(unit_settings: Settings) -> None:
    from rag.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        get_generator("gpt-nonexistent", unit_settings)
    for name in REGISTRY:
        assert name in info.value.message


def test_a_registered_fake_is_built_like_any_backend(unit_settings: Settings, passages: list[Passage]) -> None:
    class Upper(Generator):
        name = "upper"

        def stream(self, question: str, passages: object, language: str) -> Iterator[str]:
            yield question.upper()

    REGISTRY.register("upper", Upper)
    try:
        assert "".join(get_generator("upper", unit_settings).stream("abc", passages, "en")) == "ABC"
    finally:
        REGISTRY.unregister("upper")
