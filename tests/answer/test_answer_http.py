"""HTTP backends against each failure mode, over MockTransport and a real loopback server."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from rag.answer.generate import Generator, get_generator
from rag.config import Settings
from rag.errors import GeneratorError
from rag.types import Passage
from tests.answer.conftest import TRADE_QUESTION
from tests.answer.llm_fakes import FakeLLM, LoopbackLLM, Script, base_url_settings, closed_port_url

BACKENDS = ["openai", "ollama", "anthropic"]
TRANSPORTS = ["mock", "loopback"]


@pytest.fixture(params=[(b, t) for b in BACKENDS for t in TRANSPORTS], ids=lambda p: f"{p[0]}-{p[1]}")
def rig(request: pytest.FixtureRequest, unit_settings: Settings, fake_llm: FakeLLM) -> Iterator[tuple[FakeLLM, object]]:
    """(fake, make) where make(**setting_overrides) builds the backend wired to the fake."""
    backend, transport = request.param
    server = LoopbackLLM(fake_llm) if transport == "loopback" else None
    client = fake_llm.mock_client() if transport == "mock" else None
    made: list[Generator] = []

    def make(url: str | None = None, **overrides: object) -> Generator:
        root = url or (server.url if server else "http://llm.test")
        settings = dataclasses.replace(unit_settings, **base_url_settings(backend, root), **overrides)
        gen = get_generator(backend, settings, client=client) if client else get_generator(backend, settings)
        made.append(gen)
        return gen

    yield fake_llm, make
    for gen in made:
        gen.close()
    if client:
        client.close()
    if server:
        server.close()


def _answer(gen: Generator, passages: list[Passage]) -> str:
    return "".join(gen.stream(TRADE_QUESTION, passages, "ru"))


def test_happy_path(rig, passages) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    assert "3,39 млрд долларов" in _answer(make(), passages)
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (Script(kind="malformed"), "malformed"),
        (Script(kind="truncated"), "cut off"),
        (Script(kind="empty"), "empty completion"),
        (Script(kind="error_event"), "reported an error"),
        (Script(kind="status", status=401, body="invalid api key"), "HTTP 401: invalid api key"),
        (Script(kind="status", status=404, body="model not found"), "HTTP 404"),
    ],
    ids=["malformed", "truncated", "empty", "error-event", "401", "404"],
)
def test_failures_that_are_not_retried(rig, passages, script: Script, message: str) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    fake.default = script
    with pytest.raises(GeneratorError, match=message):
        _answer(make(), passages)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_then_reported(rig, passages, status: int) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    fake.default = Script(kind="status", status=status, body="overloaded")
    with pytest.raises(GeneratorError, match=f"HTTP {status}: overloaded"):
        _answer(make(llm_retries=2), passages)
    assert len(fake.requests) == 3


def test_a_retry_before_the_first_token_recovers(rig, passages) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    fake.queue = [Script(kind="status", status=503), Script(kind="drop", pieces=[])]
    assert "3,39 млрд долларов" in _answer(make(llm_retries=2), passages)
    assert len(fake.requests) == 3


def test_no_retry_after_the_first_token(rig, passages) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    fake.default = Script(kind="drop", pieces=["Объем ", "составил "])
    got: list[str] = []
    with pytest.raises(GeneratorError, match="broke off the stream|cut off"):
        for piece in make(llm_retries=3).stream(TRADE_QUESTION, passages, "ru"):
            got.append(piece)
    assert got == ["Объем ", "составил "]
    assert len(fake.requests) == 1


def test_timeout(rig, passages) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    fake.default = Script(delay=1.0)
    with pytest.raises(GeneratorError, match=r"timed out after 0.2s"):
        _answer(make(llm_timeout=0.2, llm_retries=0), passages)


def test_connection_refused(rig, passages) -> None:  # type: ignore[no-untyped-def]
    fake, make = rig
    fake.default = Script(kind="refuse")
    with pytest.raises(GeneratorError, match="unreachable"):  # the mock refuses by script, loopback by port
        _answer(make(url=closed_port_url(), llm_retries=1), passages)
    assert len(fake.requests) in (0, 2)


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_a_reply_that_is_not_an_event_stream_is_malformed(unit_settings: Settings, backend: str) -> None:
    """A 200 with a JSON body (a server that ignored ``stream: true``) is refused, not parsed as SSE."""
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi"}}]})

    settings = dataclasses.replace(unit_settings, **base_url_settings(backend, "http://llm.test"))
    with (
        httpx.Client(transport=httpx.MockTransport(handle)) as client,
        get_generator(backend, settings, client=client) as gen,
    ):
        with pytest.raises(GeneratorError, match=f"{backend} sent a malformed stream: .*text/event-stream"):
            list(gen.stream(TRADE_QUESTION, [], "ru"))


def test_credentials_never_reach_an_error_message(rig, passages) -> None:  # type: ignore[no-untyped-def]
    """A user and password in the base URL, and keys an upstream body echoes, are not shown."""
    fake, make = rig
    fake.default = Script(
        kind="status",
        status=401,
        body='{"headers": {"authorization": "Bearer sk-live-0123456789abcdef", "x-api-key": "s3cret-value"}}',
    )
    with pytest.raises(GeneratorError) as info:
        _answer(make(openai_api_key="sk-live-0123456789abcdef", anthropic_api_key="s3cret-value"), passages)
    message = info.value.message
    assert "HTTP 401" in message and "authorization" in message
    assert "sk-live" not in message and "s3cret" not in message
    fake.default = Script(kind="refuse")  # the mock refuses by script, loopback by port
    with pytest.raises(GeneratorError, match="unreachable") as info:
        _answer(make(url=closed_port_url().replace("http://", "http://user:pa55word@"), llm_retries=0), passages)
    assert "pa55word" not in info.value.message and "user" not in info.value.message


def test_a_character_split_across_pieces_is_rejoined_and_a_lone_half_replaced(rig, passages) -> None:  # type: ignore[no-untyped-def]
    """JSON lets a server send half a UTF-16 pair per event; a lone half cannot be encoded as
    UTF-8 and once turned the response into a 500 or a stream that stopped without an error."""
    fake, make = rig
    fake.default = Script(pieces=["Ok \ud83d", "\ude00 [1] ", "bad \udc00 half \ud83d"])
    answer = _answer(make(), passages)
    assert answer == "Ok \U0001f600 [1] bad \ufffd half \ufffd"
    answer.encode("utf-8")


def test_a_body_that_does_not_decode_is_a_generator_error(unit_settings: Settings) -> None:
    """A ``Content-Encoding: gzip`` reply that is not gzip: httpx's DecodingError is no transport
    error, and once came out as a 500."""
    import httpx

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream", "content-encoding": "gzip"}, content=b"not gzip at all"
        )

    settings = dataclasses.replace(unit_settings, **base_url_settings("openai", "http://llm.test"))
    with (
        httpx.Client(transport=httpx.MockTransport(handle)) as client,
        get_generator("openai", settings, client=client) as gen,
    ):
        with pytest.raises(GeneratorError, match="sent a reply that cannot be read: DecodingError"):
            _answer(gen, [])
