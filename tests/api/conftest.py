"""Fixtures for the HTTP service: a tiny hashing-embedder index, app clients, a real Uvicorn process.

Most tests use the deterministic ``hashing`` embedder and the ``echo`` generator, so they are fast
and their answers are reproducible; the seed index with e5 is used only where quality matters.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from rag.config import PROJECT_ROOT, Settings, load_settings

SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture(scope="session")
def hashing_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """seeds/ indexed with the hashing embedder, built once; copy it before changing it."""
    from rag.embed import get_embedder
    from rag.ingest.pipeline import ingest_paths

    index_dir = tmp_path_factory.mktemp("api-hash") / "index"
    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing")
    ingest_paths([SEEDS], settings, get_embedder("hashing"), progress=False)
    return index_dir


@pytest.fixture
def make_settings(hashing_index: Path, tmp_path: Path) -> Any:
    """Factory: settings over a private copy of the hashing index (echo generator), with overrides."""

    def make(**overrides: Any) -> Settings:
        index_dir = tmp_path / f"index-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(hashing_index, index_dir)
        # Hashing vectors score far below e5's refusal threshold: never refuse unless a test asks to.
        base: dict[str, Any] = {
            "embedder": "hashing",
            "generator": "echo",
            "index_dir": index_dir,
            "refusal_threshold": -100.0,
        }
        return load_settings(env={}, **{**base, **overrides})

    return make


@contextlib.asynccontextmanager
async def app_client(
    settings: Settings, headers: dict[str, str] | None = None, **kwargs: Any
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The real app for ``settings`` behind Litestar's AsyncTestClient (lifespan included), sending
    ``headers`` with every request."""
    from rag.api import create_app

    # A loopback base URL: a key-less app answers only loopback host names (DNS rebinding).
    kwargs.setdefault("base_url", "http://127.0.0.1")
    async with AsyncTestClient(app=create_app(settings), **kwargs) as client:
        client.headers.update(headers or {})
        yield client


# What a script (not a browser page) sends to upload a non-JSON body to a key-less service.
SCRIPT = {"X-Requested-With": "rag-tests"}


@dataclass(frozen=True)
class SSE:
    """One parsed Server-Sent Event."""

    event: str
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(text: str) -> list[SSE]:
    """Events of an SSE body, parsed as a browser's EventSource would (WHATWG rules)."""
    events, name, data = [], "", []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            if data:
                events.append(SSE(name or "message", "\n".join(data)))
            name, data = "", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    return events


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Interrupt a server process as Ctrl-C would; kill it if it has not exited within 15 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Server:
    """A `rag serve` process on loopback."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def run_server(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `python -m rag serve [args]` with ``settings`` (as RAG_* variables); wait for /healthz."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    variables = {
        "RAG_INDEX_DIR": str(settings.index_dir),
        "RAG_EMBEDDER": settings.embedder,
        "RAG_GENERATOR": settings.generator,
        "RAG_API_KEYS": ",".join(settings.api_keys),
        "RAG_ADMIN_KEYS": ",".join(settings.admin_keys),
        "RAG_WIDGET_KEYS": ",".join(settings.widget_keys),
        "RAG_RATE_LIMIT_PER_MINUTE": str(settings.rate_limit_per_minute),
        "RAG_REFUSAL_THRESHOLD": str(settings.refusal_threshold),
    }
    log = Path(settings.index_dir).parent / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rag",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                *args,
            ],
            env={**clean, **variables, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"rag serve exited with {process.returncode}: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"rag serve did not come up: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Server(url, process, log)
    finally:
        stop_process(process)
