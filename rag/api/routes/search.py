"""``POST /v1/search``: the best passages for a query, as `rag search --json` prints them."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import msgspec
from litestar import Response, post
from litestar.params import JSONBody

from rag.api.deps import ServiceDep, check_text, check_top_k
from rag.api.errors import ApiError
from rag.search.retrieve import MODES


class SearchRequest(msgspec.Struct):
    """Body of ``POST /v1/search``."""

    query: str
    top_k: int | None = None
    mode: str | None = None


@post("/v1/search", status_code=200, summary="Retrieve passages", tags=["search"])
async def search(data: JSONBody[SearchRequest], service: ServiceDep) -> Response[dict[str, Any]]:
    """``{"passages": [...]}``, best first."""
    s = service.settings
    query = check_text(data.query, s, what="query")
    top_k = check_top_k(data.top_k, s) or s.top_k
    mode = data.mode or s.search_mode
    if mode not in MODES:
        raise ApiError(400, "invalid_mode", f"unknown search mode {mode!r}; use one of: {', '.join(MODES)}")
    retriever = await anyio.to_thread.run_sync(service.retriever)
    passages = await anyio.to_thread.run_sync(retriever.search, query, top_k, mode)
    return Response({"passages": [p.to_dict() for p in passages]}, headers={"X-Index-Version": retriever.index_version})
