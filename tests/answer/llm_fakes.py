"""Fake LLM servers for the HTTP generator tests: one behaviour, spoken in each backend's dialect.

A ``Script`` says what the next response does (stream these pieces, fail with a status, cut the
stream, sleep first...). ``FakeLLM`` plays scripts either inside ``httpx.MockTransport`` or from a
real threaded HTTP server on 127.0.0.1, rendering them as OpenAI chat-completions SSE, Ollama
NDJSON or Anthropic Messages SSE according to the request path.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

PATHS = {"openai": "/v1/chat/completions", "ollama": "/api/chat", "anthropic": "/v1/messages"}
DIALECT = {path: name for name, path in PATHS.items()}


@dataclass
class Script:
    """What one response does. ``pieces=None`` means: quote passage [1] of the prompt, citing it."""

    kind: str = "ok"  # ok | status | malformed | truncated | drop | empty | error_event | refuse
    pieces: list[str] | None = None
    status: int = 200
    body: str = ""
    delay: float = 0.0  # seconds to sleep before the response headers
    pace: float = 0.0  # seconds between body writes (a slow token stream)


def model_reply(request_json: dict[str, Any]) -> list[str]:
    """The fake model: quote the first sentence of passage [1] from the prompt and cite it."""
    messages = request_json.get("messages", [])
    user = next(m["content"] for m in messages if m["role"] == "user")
    match = re.search(r"^\[1\][^\n]*\n(.+?[.!?])(\s|$)", user, re.MULTILINE | re.DOTALL)
    sentence = match.group(1) if match else "No passages."
    return re.findall(r"\S+\s*", sentence + " [1]")


def render(dialect: str, script: Script, request_json: dict[str, Any]) -> tuple[list[bytes], bool]:
    """(body chunks, complete) for ``script`` in ``dialect``; complete=False means cut the connection."""
    pieces = script.pieces if script.pieces is not None else model_reply(request_json)
    if script.kind in ("empty",):
        pieces = []
    enc = {"openai": _openai, "ollama": _ollama, "anthropic": _anthropic}[dialect]
    if script.kind == "malformed":
        return [
            enc(pieces[:1], finish=False),
            b"data: {this is not json\n\n" if dialect != "ollama" else b"{oops\n",
        ], True
    if script.kind == "error_event":
        return [enc(pieces[:1], finish=False), _error_event(dialect)], True
    if script.kind == "truncated":
        return [enc(pieces, finish=False)], True
    if script.kind == "drop":
        return [enc(pieces, finish=False)], False
    return [enc(pieces, finish=True)], True


def _dumps(data: Any) -> str:
    """JSON as servers write it: UTF-8 text, or ``\\uXXXX`` escapes for what UTF-8 cannot hold (half
    of a UTF-16 pair, which JSON allows)."""
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(data)
    return text


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + f"data: {_dumps(data)}\n\n").encode()


def _openai(pieces: list[str], finish: bool) -> bytes:
    out = b": keep-alive comment\n\n"
    for p in pieces:
        out += _sse(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": p}, "finish_reason": None}],
            }
        )
    if finish:
        out += _sse(
            {
                "id": "c1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "m",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
        )
        out += b"data: [DONE]\n\n"
    return out


def _ollama(pieces: list[str], finish: bool) -> bytes:
    lines = [{"model": "m", "message": {"role": "assistant", "content": p}, "done": False} for p in pieces]
    if finish:
        lines.append({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True})
    return b"".join(_dumps(x).encode() + b"\n" for x in lines)


def _anthropic(pieces: list[str], finish: bool) -> bytes:
    out = _sse({"type": "message_start", "message": {"id": "m1", "role": "assistant", "content": []}}, "message_start")
    out += _sse(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        "content_block_start",
    )
    out += _sse({"type": "ping"}, "ping")
    for p in pieces:
        out += _sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
    if finish:
        out += _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
        out += _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}, "message_delta")
        out += _sse({"type": "message_stop"}, "message_stop")
    return out


def _error_event(dialect: str) -> bytes:
    if dialect == "ollama":
        return b'{"error": "model crashed"}\n'
    if dialect == "anthropic":
        return _sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
    return _sse({"error": {"message": "model crashed", "type": "server_error"}})


@dataclass
class FakeLLM:
    """Plays queued scripts (then ``default``) and records every request it receives."""

    default: Script = field(default_factory=Script)
    queue: list[Script] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # On the loopback server: responses in progress now and at most, and ones whose client left.
    active: int = 0
    max_active: int = 0
    abandoned: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self, abandoned: bool) -> None:
        with self._lock:
            self.active -= 1
            self.abandoned += abandoned

    def next_script(self, path: str, headers: dict[str, str], body: bytes) -> tuple[Script, dict[str, Any]]:
        data = json.loads(body or b"{}")
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "json": data})
            return (self.queue.pop(0) if self.queue else self.default), data

    # -- httpx.MockTransport ---------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        script, data = self.next_script(
            request.url.path, {k.lower(): v for k, v in request.headers.items()}, request.read()
        )
        if script.kind == "refuse":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if script.delay:
            raise httpx.ReadTimeout("timed out", request=request)
        if script.kind == "status":
            return httpx.Response(script.status, text=script.body)
        chunks, complete = render(DIALECT[request.url.path], script, data)

        def body() -> Iterator[bytes]:
            yield from chunks
            if not complete:
                raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

        dialect = DIALECT[request.url.path]
        ctype = "application/x-ndjson" if dialect == "ollama" else "text/event-stream"
        return httpx.Response(200, content=body(), headers={"Content-Type": ctype})

    def mock_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fake = self.server.fake
        script, data = fake.next_script(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        fake.enter()
        left = False
        try:
            left = not self._respond(script, data)
        finally:
            fake.leave(left)

    def _client_left(self, seconds: float) -> bool:
        """Wait ``seconds``, watching the socket: True as soon as the client closes it (as a real
        model server notices a client that went away and stops generating)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            try:
                gone = bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
            except OSError:
                gone = True
            if gone:
                self.close_connection = True
                return True
        return False

    def _respond(self, script: Script, data: dict[str, Any]) -> bool:
        """Play ``script``; False when the client left before the response was complete."""
        if script.delay and self._client_left(script.delay):
            return False
        try:
            if script.kind == "status":
                payload = script.body.encode()
                self.send_response(script.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return True
            dialect = DIALECT.get(self.path.split("?")[0], "openai")
            chunks, complete = render(dialect, script, data)
            self.send_response(200)
            ctype = "application/x-ndjson" if dialect == "ollama" else "text/event-stream"
            self.send_header("Content-Type", ctype)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in chunks:
                for i in range(0, len(chunk), 64):  # small writes, as a real token stream arrives
                    part = chunk[i : i + 64]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    self.wfile.flush()
                    if script.pace and self._client_left(script.pace):
                        return False
            if complete:
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            return True
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client gave up (timeout test)
            return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left is expected here


class LoopbackLLM:
    """A real HTTP server on 127.0.0.1 (random port) playing a FakeLLM."""

    def __init__(self, fake: FakeLLM) -> None:
        self.fake = fake
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = fake
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def base_url_settings(backend: str, url: str) -> dict[str, str]:
    """The settings override pointing ``backend`` at a server root ``url``."""
    return {
        "openai": {"openai_base_url": url + "/v1"},
        "ollama": {"ollama_base_url": url},
        "anthropic": {"anthropic_base_url": url},
    }[backend]
