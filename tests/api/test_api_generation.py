"""LLM generation bounded and cancellable, against a slow fake model server on loopback: slow
answers never starve search, asks whose clients left stop their upstream calls, and a full queue
is a clear 503."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.answer.llm_fakes import FakeLLM, LoopbackLLM, Script
from tests.api.conftest import Server, run_server

QUESTION = "Какой объём взаимной торговли за январь-сентябрь 2025 года?"


@pytest.fixture
def slow_llm() -> Iterator[LoopbackLLM]:
    """A model server that takes 120 s before its first byte (and notices clients that leave): far
    longer than any test waits, so no ask ends on its own while a loaded machine runs the test."""
    llm = LoopbackLLM(FakeLLM(default=Script(delay=120.0)))
    yield llm
    llm.close()


def llm_env(llm: LoopbackLLM, **extra: str) -> dict[str, str]:
    return {"RAG_OPENAI_BASE_URL": llm.url + "/v1", "RAG_LLM_RETRIES": "0", **extra}


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.fixture
def llm_server(make_settings: Any, slow_llm: LoopbackLLM) -> Iterator[Server]:
    settings = make_settings(generator="openai", rate_limit_per_minute=0)
    # Queued asks wait for a slot, and calls for the model, longer than the test runs: none may end
    # with 503 generator_busy or a timeout while the machine is slow.
    env = llm_env(
        slow_llm,
        RAG_LLM_CONCURRENCY="4",
        RAG_LLM_CONCURRENCY_PER_KEY="4",
        RAG_LLM_QUEUE_SECONDS="300",
        RAG_LLM_TIMEOUT="300",
    )
    with run_server(settings, env=env) as srv:
        yield srv


@pytest.mark.asyncio
async def test_search_stays_fast_while_40_slow_asks_wait(llm_server: Server, slow_llm: LoopbackLLM) -> None:
    fake = slow_llm.fake
    limits = httpx.Limits(max_connections=100)
    # A client timeout longer than the test: the asks end only when cancelled below.
    async with httpx.AsyncClient(base_url=llm_server.url, limits=limits, timeout=300) as asks:
        pending = [asyncio.create_task(asks.post("/v1/ask", json={"question": QUESTION})) for _ in range(40)]
        await asyncio.to_thread(wait_for, lambda: fake.active == 4, 20, "four asks should reach the model")
        latencies = []
        async with httpx.AsyncClient(base_url=llm_server.url, timeout=30) as client:
            for i in range(20):
                t0 = time.perf_counter()
                r = await client.post("/v1/search", json={"query": f"товарооборот {i}"})
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
        done = [t for t in pending if t.done()]  # all 40 should still be waiting for the model
        assert not done, [
            repr(t.exception()) if t.exception() else (t.result().status_code, t.result().text[:300]) for t in done
        ]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    latencies.sort()
    assert latencies[18] < 1.0, f"search p95 {latencies[18]:.2f} s with 40 slow asks pending"
    assert fake.max_active == 4  # the generation limit held
    # The clients left: the four calls in flight were cut, the queued asks never reached the model.
    await asyncio.to_thread(wait_for, lambda: fake.active == 0, 10, "upstream calls should stop")
    await asyncio.sleep(0.5)
    assert fake.abandoned == len(fake.requests) <= 8


@pytest.mark.parametrize("stream", [False, True])
def test_an_ask_whose_client_left_stops_its_upstream_call(
    llm_server: Server, slow_llm: LoopbackLLM, stream: bool
) -> None:
    fake = slow_llm.fake
    body = json.dumps({"question": QUESTION, "stream": stream}).encode()
    host, port = llm_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        head = f"POST /v1/ask HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        wait_for(lambda: fake.active == 1, 20, "the ask should reach the model")
    t0 = time.monotonic()  # the client has left, the model is 30 s from its first token
    wait_for(lambda: fake.abandoned == 1, 5, "the model server should see the client leave")
    assert time.monotonic() - t0 < 5
    time.sleep(0.3)
    assert len(fake.requests) == 1 and fake.active == 0  # cut, and not retried


@pytest.mark.asyncio
async def test_no_free_slot_in_time_is_503_generator_busy(make_settings: Any) -> None:
    llm = LoopbackLLM(FakeLLM(default=Script(delay=2.0)))
    settings = make_settings(generator="openai", rate_limit_per_minute=0)
    env = llm_env(llm, RAG_LLM_CONCURRENCY="1", RAG_LLM_QUEUE_SECONDS="0.3")
    try:
        with run_server(settings, env=env) as srv:
            async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
                first = asyncio.create_task(client.post("/v1/ask", json={"question": QUESTION}))
                await asyncio.to_thread(wait_for, lambda: llm.fake.active == 1, 20, "the first ask should reach it")
                second = await client.post("/v1/ask", json={"question": QUESTION})
                streamed = await client.post("/v1/ask", json={"question": QUESTION, "stream": True})
                search = await client.post("/v1/search", json={"query": QUESTION})
                answered = await first
    finally:
        llm.close()
    assert second.status_code == 503 and second.json()["error"]["code"] == "generator_busy"
    assert second.headers["retry-after"] == "1"
    assert streamed.status_code == 200 and '"generator_busy"' in streamed.text  # an error event
    assert search.status_code == 200
    assert answered.status_code == 200 and answered.json()["generator"] == "openai"
