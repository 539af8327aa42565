"""A real `rag serve` process on loopback: the official openai client, SSE over a socket, and
50 concurrent questions while a document is ingested through the API."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.api.conftest import Server, parse_sse, run_server

QUESTION = "Какой объём взаимной торговли за январь-сентябрь 2025 года?"
NEW_DOC = "giraffe.md"
NEW_QUESTION = "Где открыли мост Фиолетового Жирафа?"
NEW_TEXT = (
    "# Мост Фиолетового Жирафа\n\n"
    "Мост Фиолетового Жирафа открыли в Ташкенте осенью, его длина 777 метров.\n\n"
    + "\n\n".join(f"Абзац {i} о строительстве моста, бетонных опорах, пролётах и фонарях." for i in range(300))
)
Q_KEY, A_KEY = "qk-server", "ak-server"


@pytest.fixture(scope="module")
def server(hashing_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import shutil

    from rag.config import load_settings

    index_dir = tmp_path_factory.mktemp("api-server") / "index"
    shutil.copytree(hashing_index, index_dir)
    settings = load_settings(
        env={},
        index_dir=index_dir,
        embedder="hashing",
        generator="echo",
        api_keys=(Q_KEY,),
        admin_keys=(A_KEY,),
        rate_limit_per_minute=0,
        refusal_threshold=-100.0,
    )
    with run_server(settings) as srv:
        yield srv


def test_openai_client_non_streaming(server: Server) -> None:
    with openai.OpenAI(base_url=server.url + "/v1", api_key=Q_KEY, max_retries=0) as client:
        models = [m.id for m in client.models.list()]
        assert models[0] == "echo" and "extractive" in models
        resp = client.chat.completions.create(model="echo", messages=[{"role": "user", "content": QUESTION}])
    auth = {"Authorization": f"Bearer {Q_KEY}"}
    direct = httpx.post(server.url + "/v1/ask", json={"question": QUESTION}, headers=auth)
    answer = direct.json()
    assert resp.object == "chat.completion" and resp.model == "echo"
    assert resp.choices[0].message.content == answer["answer"]
    assert resp.choices[0].finish_reason == "stop"
    extra = resp.model_extra or {}
    assert extra["citations"] == answer["citations"] and extra["refused"] is False
    assert resp.usage is not None and resp.usage.completion_tokens > 0


def test_openai_client_streaming(server: Server) -> None:
    with openai.OpenAI(base_url=server.url + "/v1", api_key=Q_KEY, max_retries=0) as client:
        full = client.chat.completions.create(model="echo", messages=[{"role": "user", "content": QUESTION}])
        stream = client.chat.completions.create(
            model="echo", stream=True, messages=[{"role": "user", "content": QUESTION}]
        )
        chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    pieces = [c.choices[0].delta.content or "" for c in chunks]
    assert sum(1 for p in pieces if p) > 3  # really streamed, not one blob
    assert "".join(pieces) == full.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"] == (full.model_extra or {})["citations"]


def test_openai_client_errors(server: Server) -> None:
    with openai.OpenAI(base_url=server.url + "/v1", api_key="wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as err:
            client.chat.completions.create(model="echo", messages=[{"role": "user", "content": QUESTION}])
    assert err.value.status_code == 401 and "invalid API key" in str(err.value)
    with openai.OpenAI(base_url=server.url + "/v1", api_key=Q_KEY, max_retries=0) as client:
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "  "}])


def test_sse_arrives_incrementally_over_the_socket(server: Server) -> None:
    frames: list[tuple[float, bytes]] = []
    headers = {"Authorization": f"Bearer {Q_KEY}", "Accept": "text/event-stream"}
    with httpx.stream(
        "POST", server.url + "/v1/ask", json={"question": QUESTION, "stream": True}, headers=headers, timeout=30
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        for chunk in r.iter_raw():
            frames.append((time.perf_counter(), chunk))
    events = parse_sse(b"".join(c for _, c in frames).decode())
    assert [e.event for e in events][-2:] == ["citations", "done"]
    assert len(frames) > 3  # the body came in several network reads, as it was written
    done = events[-1].json()
    assert done["answer"] == "".join(e.json()["text"] for e in events if e.event == "delta")


@pytest.mark.asyncio
async def test_50_parallel_questions_during_an_ingest(server: Server) -> None:
    auth = {"Authorization": f"Bearer {Q_KEY}"}
    limits = httpx.Limits(max_connections=60)
    async with httpx.AsyncClient(base_url=server.url, headers=auth, limits=limits, timeout=60) as client:
        before = (await client.post("/v1/ask", json={"question": NEW_QUESTION})).json()

        async def ask() -> tuple[httpx.Response, float]:
            t0 = time.perf_counter()
            r = await client.post("/v1/ask", json={"question": NEW_QUESTION})
            return r, time.perf_counter() - t0

        async def upload() -> httpx.Response:
            await asyncio.sleep(0.05)  # let the first questions reach the server
            return await client.post(
                f"/v1/documents?filename={NEW_DOC}",
                content=NEW_TEXT.encode(),
                headers={"Authorization": f"Bearer {A_KEY}"},
            )

        # 25 questions at once, then the upload, then 25 more spread over the ingest; the very last
        # one waits for the swap, so both snapshots are certainly seen.
        tasks = [asyncio.create_task(ask()) for _ in range(25)]
        uploading = asyncio.create_task(upload())
        for _ in range(24):
            await asyncio.sleep(0.02)
            tasks.append(asyncio.create_task(ask()))
        await asyncio.wait([uploading])
        tasks.append(asyncio.create_task(ask()))
        results = await asyncio.gather(*tasks)
        up = uploading.result()
        after = (await client.post("/v1/ask", json={"question": NEW_QUESTION})).json()

    assert up.status_code == 201, up.text
    new_version = up.json()["report"]["version"]
    assert all(r.status_code == 200 for r, _ in results), [r.text for r, _ in results if r.status_code != 200]
    by_version: dict[str, list[dict[str, Any]]] = {}
    for r, _ in results:
        by_version.setdefault(r.headers["x-index-version"], []).append(r.json())
    assert len(results) == 50 and new_version in by_version
    assert len(by_version) == 2  # each answer came from the old snapshot or the new one, nothing else
    for version, answers in by_version.items():
        expected = after if version == new_version else before
        for a in answers:  # every answer is exactly the one its snapshot gives
            assert a["answer"] == expected["answer"] and a["citations"] == expected["citations"]
    assert {c["doc_id"] for c in before["citations"]} == {"kazakhstan-uzbekistan.ru.txt"}
    assert {c["doc_id"] for c in after["citations"]} == {NEW_DOC}
    latencies = sorted(t for _, t in results)
    print(
        f"\n50 asks during ingest: versions {Counter(r.headers['x-index-version'] for r, _ in results)}, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {latencies[47] * 1000:.0f} ms, "
        f"ingest {up.json()['report']['seconds']:.2f} s"
    )


def test_workers_pick_up_an_ingest_made_by_another_worker(make_settings: Any) -> None:
    settings = make_settings(api_keys=(Q_KEY,), admin_keys=(A_KEY,), rate_limit_per_minute=0)
    with run_server(settings, "--workers", "2") as srv:

        def versions() -> set[str]:
            # A new connection per request, so both workers answer some of them.
            return {
                httpx.post(
                    srv.url + "/v1/search", json={"query": "Ташкент"}, headers={"Authorization": f"Bearer {Q_KEY}"}
                ).headers["x-index-version"]
                for _ in range(12)
            }

        assert len(versions()) == 1
        up = httpx.post(
            f"{srv.url}/v1/documents?filename=extra.txt",
            content="Новости Ташкента.".encode(),
            headers={"Authorization": f"Bearer {A_KEY}"},
        )
        assert up.status_code == 201
        time.sleep(1.2)  # workers look for a new snapshot at most once a second
        assert versions() == {up.json()["report"]["version"]}
