"""Dependencies the route handlers receive."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from rag.api.metrics import Metrics
from rag.api.service import Service

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
