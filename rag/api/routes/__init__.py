"""Route handlers, one module per area: ask, search, OpenAI-compatible chat, documents, health."""

from __future__ import annotations

from rag.api.routes.ask import ask
from rag.api.routes.documents import document_router
from rag.api.routes.health import healthz, metrics_endpoint, readyz
from rag.api.routes.jobs import get_job
from rag.api.routes.openai import chat_completions, list_models
from rag.api.routes.search import search

# Handlers whose settings do not depend on the app's settings; see document_router for the rest.
ROUTES = [ask, search, chat_completions, list_models, healthz, readyz, metrics_endpoint, get_job]

__all__ = ["ROUTES", "document_router"]
