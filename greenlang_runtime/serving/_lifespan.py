"""Startup and shutdown: the author's hooks, the wrapped app's lifespan, background services."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import anyio.to_thread

from greenlang_runtime._types import ASGIApp, Message, Receive, Scope, Send
from greenlang_runtime.serving._tasks import TaskTracker
from greenlang_runtime.serving.lifecycle import Lifecycle

__all__ = ["Hook", "Service", "StartupShutdown"]

logger = logging.getLogger("greenlang_runtime")

Hook = Callable[[], Any]

# Stopping the background services: quick work, but never allowed to hold the exit.
_SERVICES_STOP_SECONDS = 1.5


class Service(Protocol):
    """Something that runs in the background for as long as the agent serves.

    The loop watchdog, the dependency check refresher and the span exporter
    are services: the lifespan starts them together before the startup
    hooks and stops them together after the shutdown hooks.
    """

    async def start(self) -> None:
        """Begin; return once running."""

    async def stop(self) -> None:
        """End, releasing what is held open (threads, connections)."""


async def call_hook(hook: Hook) -> None:
    """Await an async hook; run a sync one in a worker thread, off the event loop.

    A sync hook still running when its timeout strikes is abandoned (a
    thread cannot be stopped), so the shutdown is not held up by it.
    """
    if inspect.iscoroutinefunction(hook):
        await hook()
    else:
        await anyio.to_thread.run_sync(hook, abandon_on_cancel=True)


def hook_name(hook: Hook) -> str:
    """How logs and probe bodies name a hook."""
    return getattr(hook, "__qualname__", None) or repr(hook)


class StartupShutdown:
    """The ASGI lifespan handler: runs the agent's startup and shutdown around the server's.

    Startup: the wrapped app's startup, then the background services, then
    the ``on_startup`` hooks in the background, so the startup probe can
    answer 503 while they run. Shutdown: the work started with
    ``create_task`` gets until the drain deadline; then the ``on_shutdown``
    hooks and the wrapped app's shutdown, bounded together by
    ``hooks_timeout``, and the ``drains`` (the LLM ledger's last write) in
    what is left of that time; then the services stop (pools close, spans
    flush).

    Args:
        lifecycle: the phase the probes report.
        startup_hooks: run in order; the first to raise fails the startup.
        shutdown_hooks: run in order; errors are logged and the next runs.
        hooks_timeout: seconds all shutdown hooks together may take.
        services: started and stopped around the hooks, in this order.
        tasks: background work the drain waits for.
        drain_timeout: how long that work may take when no server set a deadline.
        app: an ASGI app whose lifespan events are forwarded, if any.
        warnings: logged as the startup begins (by then the server has set
            up the logs' format).
        drains: what writes out the services' pending work once nothing can
            add to it, after the hooks and within their time.
    """

    def __init__(
        self,
        lifecycle: Lifecycle,
        startup_hooks: list[Hook],
        shutdown_hooks: list[Hook],
        hooks_timeout: float,
        services: Sequence[Service],
        tasks: TaskTracker,
        drain_timeout: float,
        app: ASGIApp | None = None,
        warnings: Sequence[str] = (),
        drains: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.lifecycle = lifecycle
        self.startup_hooks = startup_hooks
        self.shutdown_hooks = shutdown_hooks
        self.hooks_timeout = hooks_timeout
        self.services = services
        self.tasks = tasks
        self.drain_timeout = drain_timeout
        self.app = app
        self.warnings = warnings
        self.drains = drains
        self._hooks_task: asyncio.Task[None] | None = None
        self._app_task: asyncio.Task[Any] | None = None
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()

    async def startup(self, scope: Scope) -> None:
        """Start the wrapped app, the services and (in the background) the hooks."""
        self.lifecycle.begin_startup()
        for warning in self.warnings:
            logger.warning("%s", warning)
        if self.app is not None:
            await self._app_event(scope, "startup")
        for service in self.services:
            await service.start()
        self._hooks_task = asyncio.get_running_loop().create_task(self._run_startup_hooks())

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the server's ASGI lifespan messages: startup, then shutdown."""
        await receive()
        try:
            await self.startup(scope)
        except Exception as error:
            logger.exception("startup failed")
            await send({"type": "lifespan.startup.failed", "message": str(error)})
            raise  # servers expect the app to raise after reporting the failure
        await send({"type": "lifespan.startup.complete"})
        await receive()
        try:
            await self.shutdown()
        except Exception as error:
            logger.exception("shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": str(error)})
            raise
        await send({"type": "lifespan.shutdown.complete"})

    async def wait_started(self) -> None:
        """Return once the startup hooks have finished (or failed)."""
        if self._hooks_task is not None:
            await asyncio.shield(self._hooks_task)

    async def shutdown(self) -> None:
        """Wait for background work, run the hooks and the app's shutdown, stop the services."""
        if self._hooks_task is not None and not self._hooks_task.done():
            self._hooks_task.cancel()
        loop = asyncio.get_running_loop()
        deadline = self.lifecycle.drain_deadline
        await self.tasks.drain(self.drain_timeout if deadline is None else deadline - loop.time())
        hooks_end = loop.time() + self.hooks_timeout
        try:
            await asyncio.wait_for(self._shut_down(), self.hooks_timeout)
        except TimeoutError:
            logger.error(
                "on_shutdown hooks and the app's shutdown did not finish within "
                "GL_SHUTDOWN_HOOKS_TIMEOUT_SECONDS=%g; exiting without them",
                self.hooks_timeout,
            )
        try:
            await self._drain(hooks_end)
        finally:
            await self._stop_services()

    async def _drain(self, hooks_end: float) -> None:
        """Run the drains in what is left of the hooks' time (the services stop after)."""
        loop = asyncio.get_running_loop()
        for drain in self.drains:
            try:
                await asyncio.wait_for(drain(), max(0.0, hooks_end - loop.time()))
            except TimeoutError:
                logger.warning(
                    "%s did not finish within GL_SHUTDOWN_HOOKS_TIMEOUT_SECONDS=%g",
                    hook_name(drain),
                    self.hooks_timeout,
                )
            except Exception:
                logger.exception("%s failed", hook_name(drain))

    async def _stop_services(self) -> None:
        for service in reversed(self.services):
            try:
                await asyncio.wait_for(service.stop(), _SERVICES_STOP_SECONDS)
            except Exception:
                logger.exception("stopping %s failed", type(service).__name__)

    async def _shut_down(self) -> None:
        for hook in self.shutdown_hooks:
            try:
                await call_hook(hook)
            except Exception:
                logger.exception("on_shutdown hook %s failed", hook_name(hook))
        if self._app_task is not None:
            await self._app_event({}, "shutdown")

    async def _run_startup_hooks(self) -> None:
        for hook in self.startup_hooks:
            try:
                await call_hook(hook)
            except Exception as error:
                logger.exception("on_startup hook %s failed", hook_name(hook))
                self.lifecycle.startup_failed(
                    f"on_startup hook {hook_name(hook)} raised {type(error).__name__}"
                )
                return
        self.lifecycle.startup_complete()
        logger.info("Startup complete: %d on_startup hook(s) ran", len(self.startup_hooks))

    async def _app_event(self, scope: Scope, event: str) -> None:
        """Send lifespan ``event`` to the wrapped app and wait for its answer."""
        assert self.app is not None
        if event == "startup":
            self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
            self._app_task = asyncio.ensure_future(
                self.app(scope, self._to_app.get, self._from_app.put)
            )
        assert self._app_task is not None
        await self._to_app.put({"type": f"lifespan.{event}"})
        answer = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait({answer, self._app_task}, return_when=asyncio.FIRST_COMPLETED)
        if not answer.done():
            answer.cancel()
            # The app returned or raised without answering: it has no lifespan,
            # and what it raised says only that.
            if not self._app_task.cancelled():
                self._app_task.exception()
            logger.debug("the wrapped app does not support lifespan events")
            self._app_task = None
            return
        message = answer.result()
        if message["type"] == f"lifespan.{event}.failed":
            task, self._app_task = self._app_task, None
            await task  # raises the app's own exception, where it has one
            raise RuntimeError(message.get("message") or f"the wrapped app's {event} failed")
        if event == "shutdown":
            await self._app_task
            self._app_task = None
