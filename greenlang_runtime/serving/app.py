"""The agent's HTTP surface as one plain ASGI app.

Probes and capabilities are dispatched by exact path before anything else,
so they answer from memory and never queue behind the author's routes. Any
other path goes to the author's own app (Starlette, FastAPI, any ASGI app)
through a metrics wrapper. Each route is built once, with the app: its
server span too, when tracing is on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from greenlang_runtime._types import ASGIApp, Receive, Scope, Send
from greenlang_runtime.capabilities import Capability
from greenlang_runtime.config import (
    CAPABILITIES_PATH,
    LIVE_PATH,
    READY_PATH,
    STARTUP_PATH,
    Settings,
)
from greenlang_runtime.metrics import AgentMetrics
from greenlang_runtime.serving._calls import CapabilityCalls
from greenlang_runtime.serving._http import (
    CLOSE,
    encode,
    error_response,
    json_response,
    method_not_allowed,
)
from greenlang_runtime.serving._lifespan import StartupShutdown
from greenlang_runtime.serving._measured import MeasuredApp
from greenlang_runtime.serving._traced import traced
from greenlang_runtime.serving.lifecycle import Lifecycle, ProbeResult

if TYPE_CHECKING:
    from greenlang_runtime.tracing import ServerSpans

__all__ = ["RuntimeApp"]

_CAPABILITY_PREFIX: Final = CAPABILITIES_PATH + "/"
_CAPABILITY_ROUTE: Final = _CAPABILITY_PREFIX + "{name}"


class RuntimeApp:
    """Routes probes, capabilities and everything else.

    Args:
        capabilities: the runtime's registry of capabilities (read live).
        lifecycle: what the probes report.
        lifespan: runs on the ASGI lifespan events.
        settings: body limit and the like.
        metrics: where the author's own routes are recorded.
        app: the author's ASGI app for every other path, if any.
        server_spans: when tracing is on, a server span per request (never
            for the probes: the kubelet's would drown the requests).
    """

    def __init__(
        self,
        capabilities: Mapping[str, Capability],
        lifecycle: Lifecycle,
        lifespan: StartupShutdown,
        settings: Settings,
        metrics: AgentMetrics,
        app: ASGIApp | None = None,
        *,
        server_spans: ServerSpans | None = None,
    ) -> None:
        self.capabilities = capabilities
        self.lifecycle = lifecycle
        self.lifespan = lifespan
        self.settings = settings
        self.metrics = metrics
        self.app = app
        self.server_spans = server_spans
        self.calls = CapabilityCalls(capabilities, lifecycle, settings)
        self._probes: dict[str, Callable[[], ProbeResult]] = {
            LIVE_PATH: lifecycle.live,
            READY_PATH: lifecycle.ready,
            STARTUP_PATH: lifecycle.startup,
        }
        serve_call: ASGIApp = self.calls.serve
        serve_listing: ASGIApp = self._list
        serve_other: ASGIApp = _not_found if app is None else MeasuredApp(app, metrics).serve
        if server_spans is not None:
            serve_call = traced(serve_call, server_spans, _CAPABILITY_ROUTE)
            serve_listing = traced(serve_listing, server_spans, CAPABILITIES_PATH)
            serve_other = traced(serve_other, server_spans, None)
        self._serve_call = serve_call
        self._serve_listing = serve_listing
        self._serve_other = serve_other

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.lifespan.serve(scope, receive, send)
            elif self.app is not None:
                await self.app(scope, receive, send)
            return
        if self.lifecycle.draining:
            send = _closing(send)
        path = scope["path"]
        probe = self._probes.get(path)
        if probe is not None:
            await self._probe(scope, send, probe)
        elif path.startswith(_CAPABILITY_PREFIX):
            await self._serve_call(scope, receive, send)
        elif path == CAPABILITIES_PATH:
            await self._serve_listing(scope, receive, send)
        else:
            await self._serve_other(scope, receive, send)

    def abort_calls(self) -> int:
        """Past the drain deadline: answer 503 to every capability call still running.

        Each call cut off is logged with its capability; returns how many there were.
        """
        return self.calls.abort_calls()

    async def _probe(self, scope: Scope, send: Send, probe: Callable[[], ProbeResult]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await method_not_allowed(send, b"GET, HEAD")
            return
        status, body = probe()
        await json_response(send, status, encode(body))

    async def _list(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await method_not_allowed(send, b"GET, HEAD")
            return
        listing = [capability.listing() for capability in self.capabilities.values()]
        await json_response(send, 200, encode({"capabilities": listing}))


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """No author's app: every path the runtime does not serve is a 404."""
    await error_response(send, 404, "not_found", f"No route for {scope['path']!r}.")


def _closing(send: Send) -> Send:
    """While draining, ask every client to reconnect (to a pod that is not leaving)."""

    async def send_closing(message: Any) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), CLOSE]
        await send(message)

    return send_closing
