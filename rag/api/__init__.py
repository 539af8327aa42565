"""The HTTP service (Litestar): ``create_app(settings)`` builds it, ``rag serve`` runs it."""

from __future__ import annotations

from rag.api.app import create_app

__all__ = ["create_app"]
