"""The agent's HTTP surface as one plain ASGI app.

Probes and capabilities are dispatched by exact path before anything else,
so they answer from memory and never queue behind the author's routes. Any
other path goes to the author's own app (Starlette, FastAPI, any ASGI app)
through a metrics wrapper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from greenlang_runtime._offload import collector_paused, in_worker
from greenlang_runtime._types import ASGIApp, Message, Receive, Scope, Send
from greenlang_runtime.capabilities import Capability, ResultNotJson
from greenlang_runtime.config import (
    CAPABILITIES_PATH,
    LIVE_PATH,
    READY_PATH,
    STARTUP_PATH,
    Settings,
)
from greenlang_runtime.exceptions import InvalidInput, LLMBudgetExceeded
from greenlang_runtime.metrics import OTHER, AgentMetrics, CallRecorder
from greenlang_runtime.serving._http import (
    BodyTooLarge,
    ClientDisconnected,
    InvalidJson,
    encode,
    error_body,
    error_response,
    header,
    json_response,
    method_not_allowed,
    parse_json,
    read_body,
)
from greenlang_runtime.serving._lifespan import Lifespan
from greenlang_runtime.serving.lifecycle import Lifecycle, Phase, ProbeResult

if TYPE_CHECKING:
    from greenlang_runtime.tracing._spans import ServerSpans

__all__ = ["RuntimeApp"]

logger = logging.getLogger("greenlang_runtime")

_CAPABILITY_PREFIX = CAPABILITIES_PATH + "/"
_CLOSE = (b"connection", b"close")
_JSON_TYPES = (b"application/json",)
# Bodies larger than this are parsed, and their results encoded, in a worker
# thread: above it parsing takes the event loop longer than the hop to a
# thread and back does (measured crossover 2 to 4 KiB: docs/benchmarks.md,
# "Request bodies"), and a few 10 MiB bodies parsed on the loop held the
# probes for seconds. Smaller bodies take the same path as ever.
OFF_LOOP_BYTES = 4096
# Above this the collector is paused for the call too (see _offload): below
# it, the containers a body becomes cost the collector little.
PAUSE_COLLECTOR_BYTES = 1024 * 1024
# Startup hooks usually take seconds; a client retrying each second finds the agent soon.
_RETRY_AFTER_SECONDS = b"1"


class RuntimeApp:
    """Routes probes, capabilities and everything else.

    Args:
        capabilities: the runtime's registry of capabilities (read live).
        lifecycle: what the probes report.
        lifespan: runs on the ASGI lifespan events.
        settings: body limit and the like.
        metrics: where the author's own routes are recorded.
        app: the author's ASGI app for every other path, if any.
    """

    def __init__(
        self,
        capabilities: Mapping[str, Capability],
        lifecycle: Lifecycle,
        lifespan: Lifespan,
        settings: Settings,
        metrics: AgentMetrics,
        app: ASGIApp | None = None,
    ) -> None:
        self.capabilities = capabilities
        self.lifecycle = lifecycle
        self.lifespan = lifespan
        self.settings = settings
        self.metrics = metrics
        self.app = app
        self._routes: dict[str, CallRecorder] = {}
        # The capability calls running now, with the capability's name (for the drain's log).
        self._calls: dict[asyncio.Task[Any], str] = {}
        # Set by the runtime when tracing is on: a server span per request.
        self.server_spans: ServerSpans | None = None
        self._probes: dict[str, Callable[[], ProbeResult]] = {
            LIVE_PATH: lifecycle.live,
            READY_PATH: lifecycle.ready,
            STARTUP_PATH: lifecycle.startup,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.lifespan.serve(scope, receive, send)
            elif self.app is not None:
                await self.app(scope, receive, send)
            return
        if self.lifecycle.draining:
            send = _closing(send)
        probe = self._probes.get(scope["path"])
        if probe is not None:
            # Never traced: the kubelet's probes would drown the requests.
            await self._probe(scope, send, probe)
        elif self.server_spans is None:
            await self._route(scope, receive, send)
        else:
            await self.server_spans.handle(scope, receive, send, self._route)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every HTTP request but the probes: capabilities, their listing, the author's app."""
        path = scope["path"]
        if path.startswith(_CAPABILITY_PREFIX):
            await self._call(scope, receive, send, path[len(_CAPABILITY_PREFIX) :])
        elif path == CAPABILITIES_PATH:
            await self._list(scope, send)
        elif self.app is None:
            await error_response(send, 404, "not_found", f"No route for {path!r}.")
        else:
            # The author's app, inline: this is the per-request hot path.
            status = 500

            def send_status(message: Message) -> Awaitable[None]:
                # Returns send's awaitable instead of awaiting it: no extra
                # coroutine per message.
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                return send(message)

            started = self.metrics.start()
            try:
                await self.app(scope, receive, send_status)
            except BaseException as error:
                self._route_recorder(scope).record(started, True, type(error).__name__)
                raise
            self._route_recorder(scope).record(
                started, status >= 500, client_error=400 <= status < 500
            )

    def abort_calls(self) -> int:
        """Past the drain deadline: answer 503 to every capability call still running.

        Each call cut off is logged with its capability; returns how many there were.
        """
        calls = list(self._calls.items())
        for task, name in calls:
            logger.warning(
                "capability %r cut off at the drain deadline (GL_DRAIN_TIMEOUT_SECONDS=%g): "
                "answered 503",
                name,
                self.settings.drain_timeout_seconds,
                extra={"capability": name},
            )
            task.cancel("drain deadline")
        return len(calls)

    async def _probe(self, scope: Scope, send: Send, probe: Callable[[], ProbeResult]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await method_not_allowed(send, b"GET, HEAD")
            return
        status, body = probe()
        await json_response(send, status, encode(body))

    async def _list(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await method_not_allowed(send, b"GET, HEAD")
            return
        listing = [capability.listing() for capability in self.capabilities.values()]
        await json_response(send, 200, encode({"capabilities": listing}))

    async def _call(self, scope: Scope, receive: Receive, send: Send, name: str) -> None:
        """Turn the request into a payload, or answer why it cannot be one."""
        capability = self.capabilities.get(name)
        if capability is None:
            await error_response(send, 404, "not_found", f"No capability named {name!r}.")
            return
        if scope["method"] != "POST":
            await method_not_allowed(send, b"POST")
            return
        lifecycle = self.lifecycle
        if lifecycle.stopping:
            await _shutting_down(send)
            return
        if lifecycle.phase is Phase.STARTING:
            await error_response(
                send,
                503,
                "starting",
                "The agent is still starting (its on_startup hooks are running); retry shortly.",
                [(b"retry-after", _RETRY_AFTER_SECONDS)],
            )
            return
        content_type = header(scope, b"content-type")
        if content_type is not None and not _is_json(content_type):
            await error_response(
                send,
                415,
                "unsupported_media_type",
                f"Content-Type {content_type.decode('latin-1')!r} is not JSON; "
                "send the payload as application/json.",
            )
            return
        limit = self.settings.max_body_bytes
        try:
            body = await read_body(scope, receive, limit)
        except BodyTooLarge:
            await error_response(
                send,
                413,
                "payload_too_large",
                f"The request body is larger than {limit} bytes (GL_MAX_BODY_BYTES).",
                [_CLOSE],
            )
            return
        except ClientDisconnected:
            return  # nobody to answer, and half a payload is no payload
        if len(body) > OFF_LOOP_BYTES:
            await self._call_large(capability, body, send)
            return
        try:
            payload = parse_json(body)
        except InvalidJson as error:
            await error_response(send, 400, "invalid_json", str(error))
            return
        await self._invoke(capability, payload, send)

    async def _call_large(
        self, capability: Capability, body: bytes | bytearray, send: Send
    ) -> None:
        """A large body: parsed in a worker thread, its result encoded there."""
        pause = len(body) > PAUSE_COLLECTOR_BYTES
        with collector_paused() if pause else contextlib.nullcontext():
            try:
                payload = await in_worker(parse_json, body)
            except InvalidJson as error:
                await error_response(send, 400, "invalid_json", str(error))
                return
            try:
                await self._invoke(capability, payload, send, large=True)
            finally:
                # Freed before the collector is back on, so that it never walks them.
                del payload

    async def _invoke(
        self, capability: Capability, payload: Any, send: Send, large: bool = False
    ) -> None:
        """Call ``capability`` (measured there) and map its result or error to HTTP.

        ``large``: the request body was large, so its result is likely large
        too and is encoded in a worker thread.
        """
        task = asyncio.current_task()
        assert task is not None
        name = capability.name
        self._calls[task] = name
        try:
            body = await capability.invoke(payload, large)
        except InvalidInput as error:
            await json_response(send, 422, _invalid_input_body(name, error))
            return
        except LLMBudgetExceeded as error:
            await _budget_exceeded(send, error)
            return
        except ResultNotJson as error:
            logger.error("%s (%s)", error, error.__cause__)
            await error_response(send, 500, "invalid_result", str(error))
            return
        except asyncio.CancelledError:
            if not self.lifecycle.stopping:
                raise
            task.uncancel()
            await _shutting_down(send)
            return
        except Exception as error:
            logger.exception("capability %r raised %s", name, type(error).__name__)
            await error_response(
                send,
                500,
                "capability_error",
                f"The capability {name!r} raised {type(error).__name__}.",
            )
            return
        finally:
            del self._calls[task]
        await json_response(send, 200, body)

    def _route_recorder(self, scope: Scope) -> CallRecorder:
        """The recorder of the route Starlette or FastAPI left in the scope.

        Labelled by the route's path template ("/items/{id}"), a bounded
        label where the raw path is not.
        """
        label = getattr(scope.get("route"), "path", None) or OTHER
        recorder = self._routes.get(label)
        if recorder is None:
            recorder = self._routes[label] = self.metrics.recorder(label, route=True)
        return recorder


def _invalid_input_body(name: str, error: InvalidInput) -> bytes:
    """The 422 body: the capability's own message and details, as it raised them."""
    details = [] if error.details is None else error.details
    try:
        return error_body("invalid_input", error.message, details=details)
    except (TypeError, ValueError, RecursionError):
        logger.warning(
            "capability %r raised InvalidInput with details JSON cannot hold; sent without", name
        )
        return error_body("invalid_input", error.message, details=[])


async def _budget_exceeded(send: Send, error: LLMBudgetExceeded) -> None:
    """429 with Retry-After: the seconds to the period's end (or to a retry, Redis down)."""
    seconds = max(1, math.ceil(error.retry_after))
    if error.committed is None:
        message = "The LLM budget cannot be checked now and calls are refused; retry shortly."
    else:
        message = "The LLM budget of this period is spent: no LLM call fits in it until it renews."
    await error_response(
        send,
        429,
        "budget_exceeded",
        message,
        [(b"retry-after", str(seconds).encode("ascii"))],
    )


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type in _JSON_TYPES or media_type.endswith(b"+json")


def _closing(send: Send) -> Send:
    """While draining, ask every client to reconnect (to a pod that is not leaving)."""

    async def send_closing(message: Any) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), _CLOSE]
        await send(message)

    return send_closing


async def _shutting_down(send: Send) -> None:
    await error_response(
        send,
        503,
        "shutting_down",
        "The agent is shutting down and past its drain deadline; retry on another replica.",
        [_CLOSE],
    )
