"""Dependencies the route handlers receive, and the input checks they share."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from rag.answer.generate import REGISTRY
from rag.api.errors import ApiError
from rag.api.metrics import Metrics
from rag.api.service import Service
from rag.config import Settings
from rag.errors import InputError

# What handlers declare to receive the shared objects (injected by name).
ServiceDep = NamedDependency[Service]
MetricsDep = NamedDependency[Metrics]


def provide_service(state: State) -> Service:
    """The app's shared Service (built in the lifespan)."""
    service: Service = state.service
    return service


def provide_metrics(state: State) -> Metrics:
    """The app's metrics."""
    metrics: Metrics = state.metrics
    return metrics


def check_text(value: str, settings: Settings, what: str = "question") -> str:
    """``value`` stripped; InputError if empty, ApiError 400 if longer than max_question_chars."""
    text = value.strip()
    if not text:
        raise InputError(f"the {what} is empty")
    if len(text) > settings.max_question_chars:
        raise ApiError(
            400,
            f"{what}_too_long",
            f"the {what} has {len(text)} characters; the limit is {settings.max_question_chars}",
        )
    return text


def check_top_k(top_k: int | None, settings: Settings) -> int | None:
    """``top_k`` if within 1..max_top_k (None means the default), else ApiError 400."""
    if top_k is not None and not 1 <= top_k <= settings.max_top_k:
        raise ApiError(400, "invalid_top_k", f"top_k must be between 1 and {settings.max_top_k}")
    return top_k


def check_generator(name: str | None) -> str | None:
    """A known generator name (or None for the default), else ApiError 400 listing the known ones."""
    if name is not None and name not in REGISTRY:
        raise ApiError(400, "unknown_generator", f"unknown generator {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return name
