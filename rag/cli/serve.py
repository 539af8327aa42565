"""`rag serve`: run the HTTP service with Uvicorn.

Without any API key configured the service is open to whoever can reach it, so it then refuses to
bind anything but a loopback address; configure RAG_API_KEYS (and/or RAG_ADMIN_KEYS,
RAG_WIDGET_KEYS) to listen on a network interface.
"""

from __future__ import annotations

import argparse
import ipaddress
import os

from rag.cli import add_index_option
from rag.config import Settings, replace
from rag.errors import ConfigError

# With several workers each process builds its own app from RAG_* variables (see create_app_from_env).
FACTORY = "rag.api.app:create_app_from_env"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `rag serve`."""
    p = subparsers.add_parser(
        "serve",
        help="run the HTTP API (Uvicorn)",
        description="Serve the HTTP API: /v1/ask, /v1/search, /v1/chat/completions, ...",
    )
    p.add_argument("--host", help="bind address (RAG_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (RAG_PORT, default 8000)")
    p.add_argument("--workers", type=int, help="worker processes (RAG_WORKERS, default 1)")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="Uvicorn log level (default info)",
    )
    add_index_option(p)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """ConfigError when no key is configured and the host is not loopback."""
    if settings.api_keys or settings.admin_keys or settings.widget_keys:
        return
    if not is_loopback(settings.host):
        raise ConfigError(
            f"refusing to serve on {settings.host} without API keys: set RAG_API_KEYS (or RAG_ADMIN_KEYS / "
            "RAG_WIDGET_KEYS), or bind loopback with --host 127.0.0.1"
        )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Check the settings, then run Uvicorn until interrupted."""
    overrides = {k: getattr(args, k) for k in ("host", "port", "workers") if getattr(args, k) is not None}
    settings = replace(settings, **overrides)
    if settings.workers < 1:
        raise ConfigError("--workers must be at least 1")
    check_bind(settings)

    import uvicorn

    from rag.answer.generate import REGISTRY
    from rag.api.app import create_app
    from rag.api.auth import Keyring
    from rag.api.protocol import HeaderTimeoutProtocol

    Keyring.from_settings(settings)  # a malformed widget key fails here, in one line
    REGISTRY.get(settings.generator)  # and so does an unknown generator name
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_level": args.log_level,
        "proxy_headers": False,
        "server_header": False,
        # Slow or idle clients cannot hold connections open: headers within http_header_timeout,
        # idle keep-alive connections closed after http_keepalive_timeout, and past
        # http_max_concurrency connections (or requests) at once new requests get 503.
        "http": HeaderTimeoutProtocol,
        "timeout_keep_alive": settings.http_keepalive_timeout,
        "limit_concurrency": settings.http_max_concurrency,
    }
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **common)
    else:
        # Worker processes read settings from the environment: hand them what flags changed.
        os.environ["RAG_INDEX_DIR"] = str(settings.index_dir)
        os.environ["RAG_EMBEDDER"] = settings.embedder
        os.environ["RAG_STORE"] = settings.store
        uvicorn.run(FACTORY, factory=True, workers=settings.workers, **common)
    return 0
