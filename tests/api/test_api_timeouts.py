"""Uvicorn under `rag serve`: request headers must arrive in time, idle connections are closed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Server, run_server

GET = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"  # a keyless server serves loopback names only


@pytest.fixture(scope="module")
def server(hashing_index: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import shutil

    from rag.config import load_settings

    index_dir = tmp_path_factory.mktemp("api-timeouts") / "index"
    shutil.copytree(hashing_index, index_dir)
    settings = load_settings(env={}, index_dir=index_dir, embedder="hashing", generator="echo")
    env = {"RAG_HTTP_HEADER_TIMEOUT": "1", "RAG_HTTP_KEEPALIVE_TIMEOUT": "2"}
    with run_server(settings, env=env) as srv:
        yield srv


def connect(server: Server) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.settimeout(10)
    return sock


def read_response(sock: socket.socket) -> bytes:
    """One whole response (status line, headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(4096)
    return head


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_headers_sent_too_slowly_get_408_and_the_connection_closed(server: Server) -> None:
    with connect(server) as sock:
        t0 = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        try:
            for i in range(20):  # one header line every 0.3 s: 6 s in all, unless cut off
                time.sleep(0.3)
                sock.sendall(f"X-Slow-{i}: yes\r\n".encode())
        except OSError:
            pass  # the server has closed the connection
        reply = read_until_closed(sock)
        elapsed = time.monotonic() - t0
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert elapsed < 3


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    with connect(server) as sock:
        t0 = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - t0 < 3


def test_timely_requests_on_a_kept_alive_connection_are_served_then_it_is_closed_when_idle(server: Server) -> None:
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(GET)
            assert read_response(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(0.6)  # each pause is under the header timeout and the keep-alive timeout
        # Slow headers on the kept-alive connection are timed from their first byte.
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        t0 = time.monotonic()
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408 ")
        assert 0.8 < time.monotonic() - t0 < 3
    with connect(server) as sock:
        sock.sendall(GET)
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        t0 = time.monotonic()
        assert read_until_closed(sock) == b""  # idle after its response: the keep-alive timeout
        assert 1.5 < time.monotonic() - t0 < 4
