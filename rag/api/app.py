"""The app factory: ``create_app(settings) -> Litestar``.

Heavy resources (embedder, index, generators, HTTP client) are built once in the lifespan and
reach handlers by dependency injection; one guard does authentication, admin checks and rate
limits; every exception becomes a JSON error (``rag.api.errors``), and so does a refused CORS
preflight (``rag.api.cors``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from rag.api.auth import AuthGuard, Keyring
from rag.api.cors import PreflightRefusal, cors_config
from rag.api.deps import provide_metrics, provide_service
from rag.api.errors import EXCEPTION_HANDLERS
from rag.api.metrics import Metrics
from rag.api.openapi import complete_schema, state_security
from rag.api.routes import ROUTES, document_router
from rag.api.routes.documents import MAX_FORM_PARTS
from rag.api.service import Service
from rag.api.sitecheck import SiteCheck, SiteCheckMiddleware
from rag.config import Settings
from rag.embed import Embedder


def site_check(settings: Settings, keyring: Keyring) -> SiteCheck:
    """Host names and cross-site writes (see ``rag.api.sitecheck``)."""
    origins = set(settings.cors_origins) | keyring.widget_origins()
    return SiteCheck(settings.allowed_hosts, keyed=not keyring.open, origins=origins)


def _widget_routes() -> list[Any]:
    from rag.api.widget import widget_routes

    return list(widget_routes)


def create_app(settings: Settings, embedder: Embedder | None = None) -> Litestar:
    """The HTTP service for ``settings``; pass ``embedder`` to reuse one already loaded."""
    keyring = Keyring.from_settings(settings)
    service = Service(settings, embedder)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(service.start)
        metrics.chunks.set_function(service.chunk_count)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(service.close)

    cors = cors_config(set(settings.cors_origins) | keyring.widget_origins())
    site = site_check(settings, keyring)
    app = Litestar(
        route_handlers=[*ROUTES, document_router(settings.max_upload_bytes), *_widget_routes()],
        lifespan=[lifespan],
        state=State({"service": service, "metrics": metrics}),
        dependencies={
            "service": Provide(provide_service, sync_to_thread=False),
            "metrics": Provide(provide_metrics, sync_to_thread=False),
        },
        guards=[AuthGuard(settings, keyring)],
        middleware=[metrics.middleware, SiteCheckMiddleware(site)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        multipart_form_part_limit=MAX_FORM_PARTS,
        # Logging is the process's business (`rag serve` configures it); Litestar's default config
        # would raise the root logger to INFO and flood the log with library chatter.
        logging_config=None,
        openapi_config=OpenAPIConfig(title="rag", version="1", description="Question answering with citations."),
    )
    # Litestar's CORS middleware wraps the app outside all route middleware and answers preflights
    # itself, so the JSON answer to refused ones (a foreign Host name among them: the site check is
    # route middleware) has to sit in front of it, on the outermost handler.
    app.asgi_handler = PreflightRefusal(app.asgi_handler, cors, site)
    complete_schema(app.openapi_schema, settings)
    state_security(app.openapi_schema, app.routes, keyed=not keyring.open)
    return app


def create_app_from_env() -> Litestar:
    """``create_app`` with settings from ``RAG_*`` variables (Uvicorn's factory for --workers > 1)."""
    from rag.config import load_settings

    return create_app(load_settings())
