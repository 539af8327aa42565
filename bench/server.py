"""A `rag serve` process on a free loopback port for the benchmarks, and the run's conditions."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Variables the benchmark sets itself; any other RAG_* in the environment reaches the server.
OWN = ("RAG_INDEX_DIR", "RAG_EMBEDDER", "RAG_GENERATOR", "RAG_API_KEYS", "RAG_ADMIN_KEYS", "RAG_WIDGET_KEYS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    """`python -m rag serve` over ``index`` with the extractive generator and no rate limit."""

    def __init__(self, index: Path, admin_key: str) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.url = f"http://{self.host}:{self.port}"
        self.auth = {"Authorization": f"Bearer {admin_key}"}
        self.log = index.parent / "server.log"
        env = {k: v for k, v in os.environ.items() if k not in OWN}
        env.update(
            RAG_INDEX_DIR=str(index),
            RAG_EMBEDDER="e5-small",
            RAG_GENERATOR="extractive",
            RAG_ADMIN_KEYS=admin_key,
            RAG_RATE_LIMIT_PER_MINUTE=env.get("RAG_RATE_LIMIT_PER_MINUTE", "0"),
        )
        self._env = env
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        cmd = [sys.executable, "-m", "rag", "serve", "--host", self.host, "--port", str(self.port)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*cmd, "--log-level", "warning"], env=self._env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"rag serve exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"rag serve did not come up: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def rss_mb(self) -> float:
        """Resident memory of the server process (VmRSS), in MB."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _reaches_server(name: str) -> bool:
    return name.startswith("RAG_") and name not in OWN


def environment(load_before: tuple[float, float, float], note: str) -> dict[str, Any]:
    """When, where and under what load the run happened."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "rag"], capture_output=True, text=True, cwd=ROOT)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit.stdout.strip() + ("+changes" if dirty.stdout.strip() else ""),
        "cpus": os.cpu_count(),
        "load_before": " ".join(f"{x:.2f}" for x in load_before),
        "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "note": note,
        "settings": ", ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if _reaches_server(k)),
    }
