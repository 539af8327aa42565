"""A small HTTP/1.1 load client: N concurrent keep-alive connections, each sending requests back to back.

Hand-written over asyncio streams rather than httpx: the client shares two cores with the server it
measures, and a full-featured client would take a noticeable share of them at high request rates.
It speaks just what the service answers: a status line, headers and a ``Content-Length`` body.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_SERIAL = itertools.count()


@dataclass
class Outcome:
    """Latencies and status codes of one load phase."""

    name: str
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # connection failures (no status at all)

    def percentile(self, q: float) -> float:
        """The ``q`` quantile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1] * 1000

    def summary(self) -> dict[str, Any]:
        ok = sum(n for s, n in self.statuses.items() if 200 <= s < 300)
        return {
            "name": self.name,
            "clients": self.clients,
            "requests": len(self.latencies),
            "ok": ok,
            "errors_5xx": sum(n for s, n in self.statuses.items() if s >= 500),
            "connection_errors": self.errors,
            "throughput": ok / self.seconds if self.seconds else 0.0,
            "p50_ms": self.percentile(0.50),
            "p95_ms": self.percentile(0.95),
            "p99_ms": self.percentile(0.99),
        }


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.headers = headers or {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, bytes]:
        """(status, body) of one request; reconnects when the server closed the connection."""
        reused = self._writer is not None and not self._writer.is_closing()
        try:
            return await self._request(method, path, body, headers)
        except (asyncio.IncompleteReadError, ConnectionError):
            if not reused:
                raise
            await self.close()  # the server closed the idle connection (keep-alive timeout): once more
            return await self._request(method, path, body, headers)

    async def _request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **headers}.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        payload = await self._reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def post_json(self, path: str, data: Any, **headers: str) -> tuple[int, bytes]:
        body = json.dumps(data).encode()
        return await self.request("POST", path, body, **{"Content-Type": "application/json", **headers})

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
            self._writer = None


async def run_phase(
    name: str,
    host: str,
    port: int,
    clients: int,
    seconds: float,
    make_request: Callable[[int], tuple[str, Any]],
    headers: dict[str, str] | None = None,
) -> Outcome:
    """``clients`` connections posting ``make_request(n)`` (path, JSON body) for ``seconds``.

    ``n`` counts requests across every phase of the process, so no two requests of a run share a
    question: a repeated one would be answered from the server's query-vector cache.
    """
    outcome = Outcome(name, clients, seconds)
    counter = _SERIAL
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = Connection(host, port, headers)
        try:
            while time.perf_counter() < deadline:
                path, body = make_request(next(counter))
                t0 = time.perf_counter()
                try:
                    status, _ = await conn.post_json(path, body)
                except (OSError, asyncio.IncompleteReadError):
                    outcome.errors += 1
                    await conn.close()
                    continue
                outcome.latencies.append(time.perf_counter() - t0)
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    outcome.seconds = time.perf_counter() - started  # includes the requests still in flight at the deadline
    return outcome
