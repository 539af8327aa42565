"""Uvicorn's h11 protocol with a deadline for request headers.

Uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but sets no limit on how long a
client may take to send a request's headers: one byte every few seconds keeps a connection, and
its memory, forever (slowloris). Here every request's headers must be complete within
``RAG_HTTP_HEADER_TIMEOUT`` seconds, counted from the connection's opening or from the first byte
of the next request on a kept-alive connection; otherwise the connection is answered
``408 Request Timeout`` (or just closed when nothing at all arrived) and closed. Bodies are not
timed here: their size is bounded by the body limits, and a handler reading them is cancelled
when the client leaves.

The timeout is read from the ``RAG_*`` environment once per process, as worker processes of
``rag serve --workers N`` build their app from it too (``rag.api.app.create_app_from_env``).
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

_TIMEOUT_BODY = b"request headers not received in time\n"
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + f"content-length: {len(_TIMEOUT_BODY)}\r\nconnection: close\r\n\r\n".encode()
    + _TIMEOUT_BODY
)


@cache
def header_timeout() -> float:
    """``http_header_timeout`` from the settings of this process."""
    from rag.config import load_settings

    return load_settings().http_header_timeout


class HeaderTimeoutProtocol(H11Protocol):
    """``H11Protocol`` that closes connections whose request headers do not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout()
        self._header_timer: asyncio.TimerHandle | None = None
        self._received = False  # any byte of the current request yet

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._header_timer is None:
            self._arm()  # the first bytes of the next request on a kept-alive connection
        self._received = True
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if self.header_timeout > 0:
            self._received = False
            self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        if self._received:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()
