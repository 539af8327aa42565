"""``/healthz`` (the process is up), ``/readyz`` (index loaded, generator reachable), ``/metrics``."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Response, get
from litestar.openapi import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from rag.api.deps import MetricsDep, ServiceDep
from rag.api.errors import error_body, error_responses

READYZ_RESPONSES = {
    **error_responses(keyed=False),
    503: ResponseSpec(
        data_container=dict[str, Any],
        description='Not ready: {"status": "unavailable", "index", "generator", "error": {"code", "message"}}',
        generate_examples=False,
    ),
}


@get("/healthz", summary="Liveness", tags=["health"], responses=error_responses(keyed=False))
async def healthz() -> dict[str, str]:
    """Always ``{"status": "ok"}`` while the process serves requests."""
    return {"status": "ok"}


@get("/readyz", summary="Readiness", tags=["health"], responses=READYZ_RESPONSES)
async def readyz(service: ServiceDep) -> Response[dict[str, Any]]:
    """200 when the index is loaded and the default generator's server answers; 503 otherwise."""
    index = await anyio.to_thread.run_sync(service.index_status)
    generator = await anyio.to_thread.run_sync(service.generator_status)
    body: dict[str, Any] = {"status": "ready", "index": index, "generator": generator}
    if index["ok"] and generator["ok"]:
        return Response(body, status_code=200)
    failing = index if not index["ok"] else generator
    body.update(status="unavailable", **error_body("not_ready", failing["message"]))
    return Response(body, status_code=503)


@get(
    "/metrics",
    summary="Prometheus metrics",
    tags=["health"],
    media_type=CONTENT_TYPE_LATEST,
    responses=error_responses(keyed=False),
)
async def metrics_endpoint(metrics: MetricsDep) -> Response[bytes]:
    """The Prometheus text exposition of this process's metrics."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
