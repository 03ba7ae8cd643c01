"""The author's own ASGI app, each request counted under its route template."""

from __future__ import annotations

from greenlang_runtime._types import ASGIApp, Receive, Scope, Send
from greenlang_runtime.metrics import OTHER, AgentMetrics, CallStats
from greenlang_runtime.serving._http import watch_status

__all__ = ["MeasuredApp"]


class MeasuredApp:
    """Serves ``app`` inline (the per-request hot path) and records each request.

    Args:
        app: the author's ASGI app (Starlette, FastAPI, any).
        metrics: where each request is counted, under the route template the
            author's router left in the scope (``/items/{id}``), else ``other``.
    """

    def __init__(self, app: ASGIApp, metrics: AgentMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._routes: dict[str, CallStats] = {}

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request with the author's app, measured."""
        status = [500]
        started = self.metrics.begin()
        try:
            await self.app(scope, receive, watch_status(send, status))
        except BaseException as error:
            self._stats(scope).end(started, True, type(error).__name__)
            raise
        answered = status[0]
        self._stats(scope).end(started, answered >= 500, client_error=400 <= answered < 500)

    def _stats(self, scope: Scope) -> CallStats:
        """The counts of the route Starlette or FastAPI left in the scope.

        Labelled by the route's path template ("/items/{id}"), a bounded
        label where the raw path is not.
        """
        label = getattr(scope.get("route"), "path", None) or OTHER
        stats = self._routes.get(label)
        if stats is None:
            stats = self._routes[label] = self.metrics.stats(label, route=True)
        return stats
