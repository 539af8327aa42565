"""Connecting to Milvus: a server by URI, or Milvus Lite in this process for a local path.

Milvus Lite (3.x, pure Python) runs a gRPC server on a thread per data directory and holds an
exclusive lock on the directory while it is open: a second process gets a lock error (measured
with milvus-lite 3.2.2), and the lock is released only by ``release_server(path)`` or process
exit. Several processes share one index through ``milvus-lite server --data-dir DIR --host
127.0.0.1 --port N`` and ``RAG_MILVUS_URI=http://127.0.0.1:N``. Opens are counted per path here so
that a store closed in one part of a process does not pull the server from under another.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import ConfigError, IndexError_

_lock = threading.Lock()
_lite_refs: dict[str, int] = {}
URL_SCHEMES = ("http://", "https://", "tcp://", "unix:")
# pymilvus pings an idle connection every 10 s; a gRPC server that keeps the library default (Milvus
# Lite does) answers the third such ping with GOAWAY "too_many_pings", logged on stderr each time
# and costing a reconnect. Five minutes is the default minimum interval every gRPC server accepts.
GRPC = {"grpc_options": {"grpc.keepalive_time_ms": 300_000}}


def milvus_uri(settings: Settings) -> str:
    """The configured URI, or Milvus Lite data beside the index directory."""
    return settings.milvus_uri or str(settings.index_dir / "milvus.db")


class Client:
    """A ``pymilvus.MilvusClient`` whose errors arrive as the project's own (``IndexError_``)."""

    def __init__(self, client: Any, where: str) -> None:
        self._client, self._where = client, where

    def __getattr__(self, name: str) -> Any:
        from pymilvus.exceptions import MilvusException

        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except MilvusException as exc:
                raise IndexError_(f"Milvus at {self._where}: {name} failed: {exc.message}") from None

        return call


def connect(settings: Settings) -> tuple[Client, Callable[[], None]]:
    """(a client, a function that releases it)."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError:
        raise ConfigError("RAG_STORE=milvus needs pymilvus: pip install 'rag[milvus]'") from None
    # pymilvus (which sets its own levels on import) logs every failed call, which we turn into
    # our own error, and warns on every Milvus Lite query iterator that Lite keeps no timestamps.
    for name in ("pymilvus", "pymilvus.milvus_client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    uri = milvus_uri(settings)
    if uri.startswith(URL_SCHEMES):
        try:
            client = MilvusClient(uri=uri, token=settings.milvus_token, timeout=30, **GRPC)
        except MilvusException as exc:
            raise IndexError_(f"cannot reach Milvus at {uri}: {exc.message}") from None
        return Client(client, uri), client.close
    path = str(Path(uri).expanduser().resolve())
    local = _acquire(path)
    try:
        client = MilvusClient(uri=local, **GRPC)
    except BaseException:
        _release(path)
        raise

    def close() -> None:
        client.close()
        _release(path)

    return Client(client, path), close


def _acquire(path: str) -> str:
    try:
        from milvus_lite import server_manager_instance
    except ImportError:
        raise ConfigError(
            f"RAG_MILVUS_URI={path} is a local path, which needs milvus-lite: pip install 'rag[milvus]'"
        ) from None
    Path(path).mkdir(parents=True, exist_ok=True)
    with _lock:
        quiet = logging.getLogger("milvus_lite.server_manager")
        level, quiet.level = quiet.level, logging.CRITICAL  # it logs a traceback for a locked directory
        try:
            local = server_manager_instance.start_and_get_uri(path)
        finally:
            quiet.setLevel(level)
        if local is None:
            raise IndexError_(
                f"Milvus Lite data at {path} is open in another process (one process per directory): "
                f"run `milvus-lite server --data-dir {path} --host 127.0.0.1` and set RAG_MILVUS_URI=http://127.0.0.1:19530"
            )
        _lite_refs[path] = _lite_refs.get(path, 0) + 1
        return local


def _release(path: str) -> None:
    from milvus_lite import server_manager_instance

    with _lock:
        _lite_refs[path] = _lite_refs.get(path, 1) - 1
        if _lite_refs[path] <= 0:
            _lite_refs.pop(path, None)
            server_manager_instance.release_server(path)
