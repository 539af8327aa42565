"""Stopping an LLM call whose answer nobody will read any more.

The answer pipeline runs in a worker thread that spends most of its time blocked in a socket read
while the model thinks; nothing can be raised into it from outside. So the API runs each
generation under a :class:`Cancel` (:meth:`Cancel.run`, which makes it current for that thread),
and HTTP generators connect through :func:`cancellable_transport`, whose sockets register with the
current ``Cancel`` while they read or write. :meth:`Cancel.cancel` shuts those sockets down: the
blocked read returns at once, and the LLM server sees its client leave (vLLM, llama.cpp and Ollama
stop generating then). The generators' retry loop checks the flag before trying again.

``cancellable_transport`` rebuilds httpx's connection pool with this network backend, since httpx
offers no other way to pass one; being given a transport, httpx no longer reads proxy settings
from the environment for it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

import httpcore
import httpx

from rag.errors import GenerationCancelledError

T = TypeVar("T")
_current: ContextVar[Cancel | None] = ContextVar("rag_generation_cancel", default=None)


class Cancel:
    """A cancellation flag for one generation, and the sockets it is waiting on."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        """Set the flag and shut down every socket the generation is blocked on (any thread)."""
        self._event.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` with this Cancel current (call it in the thread that generates)."""
        token = _current.set(self)
        try:
            return fn(*args)
        finally:
            _current.reset(token)

    def sleep(self, seconds: float) -> None:
        """Sleep, waking early to raise GenerationCancelledError when cancelled."""
        if self._event.wait(seconds):
            raise GenerationCancelledError("the client went away; generation stopped")

    @contextlib.contextmanager
    def watching(self, sock: socket.socket | None) -> Iterator[None]:
        """While inside, ``cancel()`` shuts ``sock`` down."""
        if sock is None:
            yield
            return
        with self._lock:
            self._sockets.add(sock)
        try:
            if self.cancelled:
                _shutdown(sock)
            yield
        finally:
            with self._lock:
                self._sockets.discard(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def current() -> Cancel | None:
    """The Cancel of the generation running in this thread, if any."""
    return _current.get()


def raise_if_cancelled() -> None:
    """GenerationCancelledError when the current generation was cancelled."""
    cancel = _current.get()
    if cancel is not None and cancel.cancelled:
        raise GenerationCancelledError("the client went away; generation stopped")


def pause(seconds: float) -> None:
    """Sleep between retries, cut short by a cancel."""
    cancel = _current.get()
    if cancel is None:
        time.sleep(seconds)
    else:
        cancel.sleep(seconds)


class _Stream(httpcore.NetworkStream):
    """A network stream whose blocking calls can be interrupted by the current Cancel."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def _watch(self) -> contextlib.AbstractContextManager[None]:
        cancel = _current.get()
        return cancel.watching(self._inner.get_extra_info("socket")) if cancel else contextlib.nullcontext()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with self._watch():
            return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with self._watch():
            self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, *args, **kwargs))

    def connect_unix_socket(self, path: str, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, *args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def cancellable_transport() -> httpx.HTTPTransport:
    """An httpx transport whose connections a ``Cancel`` can cut (pooled like httpx's default)."""
    transport = httpx.HTTPTransport()
    transport._pool = httpcore.ConnectionPool(  # httpx's default limits
        ssl_context=httpx.create_ssl_context(),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_Backend(),
    )
    return transport
