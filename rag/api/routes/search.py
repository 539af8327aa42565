"""``POST /v1/search``: the best passages for a query, as `rag search --json` prints them."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import msgspec
from litestar import Response, post
from litestar.params import JSONBody

from rag import validate
from rag.api.deps import ServiceDep
from rag.api.errors import error_responses


class SearchRequest(msgspec.Struct):
    """Body of ``POST /v1/search``."""

    query: str
    top_k: int | None = None
    mode: str | None = None


@post(
    "/v1/search",
    status_code=200,
    summary="Retrieve passages",
    tags=["search"],
    responses=error_responses(413, 422, 503),
)
async def search(data: JSONBody[SearchRequest], service: ServiceDep) -> Response[dict[str, Any]]:
    """``{"passages": [...]}``, best first."""
    s = service.settings
    query = validate.text(data.query, s, what="query")
    top_k, mode = validate.top_k(data.top_k, s), validate.search_mode(data.mode, s)
    retriever = await anyio.to_thread.run_sync(service.retriever)
    passages = await anyio.to_thread.run_sync(retriever.search, query, top_k, mode)
    return Response({"passages": [p.to_dict() for p in passages]}, headers={"X-Index-Version": retriever.index_version})
