"""The supervisor's ``/metrics``: its own metrics and every worker's, merged at scrape time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from greenlang_runtime._types import ASGIApp, Receive, Scope, Send
from greenlang_runtime.metrics import Exposition, SketchState, SlidingQuantiles, merge_expositions
from greenlang_runtime.serving._metrics_app import make_metrics_app

__all__ = ["MergedMetrics", "make_merged_metrics_app"]


class MergedMetrics(Collector):
    """One collector whose families are the supervisor's and the workers' merged.

    Args:
        supervisor: the supervisor's own metrics, parsed, now.
        workers: each live worker's last metrics and sketch, and the exited
            workers' as one more entry.
        empty_sketch: makes an empty sketch with the workers' window and accuracy.
    """

    def __init__(
        self,
        supervisor: Callable[[], Exposition],
        workers: Callable[[], list[tuple[Exposition, SketchState | None]]],
        empty_sketch: Callable[[], SlidingQuantiles],
    ) -> None:
        self._supervisor = supervisor
        self._workers = workers
        self._empty_sketch = empty_sketch

    def collect(self) -> Iterator[Metric]:
        """The merged families."""
        workers = self._workers()
        yield from merge_expositions(
            self._supervisor(),
            [exposition for exposition, _ in workers],
            [sketch for _, sketch in workers if sketch is not None],
            self._empty_sketch(),
        )

    def describe(self) -> Iterable[Metric]:
        """No description: collected at every scrape only."""
        return ()


def make_merged_metrics_app(
    collector: MergedMetrics, refresh: Callable[[], Awaitable[None]]
) -> ASGIApp:
    """``GET /metrics`` that first asks every worker for its metrics, then serves them merged."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    serve = make_metrics_app(registry)

    async def merged_metrics_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            await refresh()
        await serve(scope, receive, send)

    return merged_metrics_app
