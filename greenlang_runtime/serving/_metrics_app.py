"""The metrics listener's app: ``GET /metrics`` and nothing else."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, make_asgi_app
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from greenlang_runtime._types import ASGIApp, Receive, Scope, Send
from greenlang_runtime.config import METRICS_PATH
from greenlang_runtime.serving._http import error_response, method_not_allowed

__all__ = ["DefaultRegistryCollector", "make_metrics_app"]


def make_metrics_app(registry: CollectorRegistry) -> ASGIApp:
    """An ASGI app serving ``registry`` at ``/metrics`` in the Prometheus text format."""
    exposition = make_asgi_app(registry)

    async def metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != METRICS_PATH:
            await error_response(send, 404, "not_found", f"Metrics are served at {METRICS_PATH}.")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await method_not_allowed(send, b"GET, HEAD")
            return
        await exposition(scope, receive, send)

    return metrics_app


class DefaultRegistryCollector(Collector):
    """Forwards prometheus_client's default registry, so the author's own metrics show too."""

    def collect(self) -> Iterable[Metric]:
        """Whatever the default registry holds now."""
        return REGISTRY.collect()

    def describe(self) -> Iterable[Metric]:
        """No description: the default registry's metrics are checked where they register."""
        return ()
