"""Stateless replicas: two `rag serve` processes on one Milvus (a `milvus-lite server` on
loopback) answer alike, and a write through either is seen through the other."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from rag.config import load_settings
from rag.embed import get_embedder
from rag.ingest.load import load_bytes
from rag.ingest.pipeline import update_index
from tests.api.conftest import Server, free_port, run_server, stop_process

Q_KEY, A_KEY = "qk-replica", "ak-replica"
BASE = "Товарооборот Казахстана и Узбекистана достиг 4 млрд долларов. Стороны обсудили водные ресурсы."
NEW = "Мост Фиолетового Жирафа открыли в Ташкенте осенью, его длина 777 метров."
QUERY = "мост Фиолетового Жирафа"


@pytest.fixture
def milvus_url(tmp_path: Path) -> Iterator[str]:
    """A Milvus-protocol server (milvus-lite) on a free loopback port, stopped after the test."""
    port = free_port()
    log = tmp_path / "milvus-lite.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "milvus")]
            + ["--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"milvus-lite server exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                pytest.fail("milvus-lite server did not come up")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _search(srv: Server, query: str) -> tuple[list[tuple[str, float]], str]:
    r = httpx.post(
        srv.url + "/v1/search", json={"query": query, "top_k": 3}, headers={"Authorization": f"Bearer {Q_KEY}"}
    )
    assert r.status_code == 200, r.text
    return [(p["chunk_id"], p["score"]) for p in r.json()["passages"]], r.headers["X-Index-Version"]


def _eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Replicas notice another's write when they next poll the version (at most once a second)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the other replica never saw the write"
        time.sleep(0.2)


def test_two_replicas_share_one_milvus(milvus_url: str, tmp_path: Path) -> None:
    common = {"store": "milvus", "milvus_uri": milvus_url, "embedder": "hashing", "generator": "echo"}
    settings = load_settings(
        env={}, index_dir=tmp_path / "a", api_keys=(Q_KEY,), admin_keys=(A_KEY,), rate_limit_per_minute=0, **common
    )
    update_index(settings, get_embedder("hashing"), add=[load_bytes("base.txt", BASE.encode())])
    env = {"RAG_STORE": "milvus", "RAG_MILVUS_URI": milvus_url}
    other = load_settings(
        env={}, index_dir=tmp_path / "b", api_keys=(Q_KEY,), admin_keys=(A_KEY,), rate_limit_per_minute=0, **common
    )
    with run_server(settings, env=env) as a, run_server(other, env=env) as b:
        assert _search(a, "товарооборот") == _search(b, "товарооборот")  # same hits, same version

        up = httpx.post(
            f"{a.url}/v1/documents?filename=giraffe.txt",
            content=NEW.encode(),
            headers={"Authorization": f"Bearer {A_KEY}"},
        )
        assert up.status_code == 201, up.text
        _eventually(lambda: any(c.startswith("giraffe.txt#") for c, _ in _search(b, QUERY)[0][:1]))
        _eventually(lambda: _search(a, QUERY) == _search(b, QUERY))
        listed = httpx.get(f"{b.url}/v1/documents", headers={"Authorization": f"Bearer {A_KEY}"}).json()["documents"]
        assert {d["doc_id"] for d in listed} == {"base.txt", "giraffe.txt"}

        gone = httpx.delete(f"{b.url}/v1/documents/giraffe.txt", headers={"Authorization": f"Bearer {A_KEY}"})
        assert gone.status_code == 200, gone.text
        _eventually(lambda: not any(c.startswith("giraffe.txt#") for c, _ in _search(a, QUERY)[0]))
        _eventually(lambda: _search(a, QUERY) == _search(b, QUERY))  # same hits, and the same version soon
        assert not (tmp_path / "a" / "CURRENT").exists()  # no FAISS snapshot: the index is all in Milvus
