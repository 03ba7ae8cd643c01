"""Serving: two uvicorn listeners in one event loop, and the shutdown sequence.

The server owns SIGTERM and SIGINT from the start instead of uvicorn, whose
own handling closes the listener at once (refusing every request that
arrives while the endpoint removal propagates) and exits 143. Here:

1. readiness turns 503 at once; responses ask clients to reconnect;
2. requests keep being served for ``prestop_delay_seconds`` (SIGTERM only:
   SIGINT comes from a terminal, not from Kubernetes, and skips it);
3. the listener closes and in-flight requests and ``create_task`` work
   finish, up to ``drain_timeout_seconds``; calls still running then are
   answered 503, tasks cancelled;
4. ``on_shutdown`` hooks and the app's lifespan shutdown run, then the
   background services stop (dependency connections close);
5. the metrics listener closes last, and the process exits 0.

A second signal exits at once. The log says what each listener serves, what
the first signal will really do, each call cut off at the deadline, and ends
the drain with one summary line (see docs/shutdown.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn

from greenlang_runtime._types import ASGIApp
from greenlang_runtime.config import METRICS_PATH, Settings
from greenlang_runtime.serving._listener import KEEP_ALIVE_SECONDS, bounded_protocol
from greenlang_runtime.serving.app import RuntimeApp
from greenlang_runtime.serving.lifecycle import Phase

__all__ = ["serve"]

logger = logging.getLogger("greenlang_runtime")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Past the drain deadline, the time left to write the 503s before uvicorn
# cancels what is still running.
_ABORT_GRACE_SECONDS = 1.0
EXIT_STARTUP_FAILED = 3


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to :func:`serve` and says what it serves.

    Args:
        config: uvicorn's configuration.
        serving: what the listener serves, for its start line ("the agent's HTTP API").
        path: appended to the address in that line (``/metrics``).
    """

    def __init__(self, config: uvicorn.Config, serving: str, path: str = "") -> None:
        super().__init__(config)
        self.serving = serving
        self.path = path

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def _log_started_message(self, listeners: Sequence[socket.SocketType]) -> None:
        # Instead of uvicorn's "Uvicorn running on ... (Press CTRL+C to quit)", the same
        # for both listeners: one line each, saying which is which.
        host = self.config.host
        port = listeners[0].getsockname()[1] if listeners else self.config.port
        shown = f"[{host}]" if ":" in host else host
        logger.info(
            "serving %s on http://%s:%d%s",
            self.serving,
            shown,
            port,
            self.path,
            extra={"listener": self.serving, "port": port},
        )


@dataclasses.dataclass
class _DrainCounts:
    """What the drain did, for its summary line."""

    began: float
    requests_at_signal: int
    prestop_requests: int = 0
    in_flight_at_close: int = 0
    cut_off: int = 0


class _Shutdown:
    """The shutdown sequence, started by the first signal (or a failed startup)."""

    def __init__(
        self, app: RuntimeApp, http: _Server, settings: Settings, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.app = app
        self.http = http
        self.settings = settings
        self.loop = loop
        self.exit_code = 0
        self.task: asyncio.Task[None] | None = None
        self.counts: _DrainCounts | None = None

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.task is not None:
            logger.warning("Second %s: exiting at once", name)
            os._exit(128 + signum)
        drain = self.settings.drain_timeout_seconds
        # SIGINT comes from a terminal, not from Kubernetes: no endpoint removal to wait out.
        # Nor for a pod whose startup never completed: it was never ready, so no
        # endpoint points at it.
        started = self.app.lifecycle.phase is not Phase.STARTING
        delay = self.settings.prestop_delay_seconds if signum == signal.SIGTERM else 0.0
        delay = delay if started else 0.0
        if delay:
            logger.info(
                "%s received: still serving for the pre-stop delay of %gs (readiness 503), "
                "then the listener closes and in-flight work gets up to %gs; "
                "send it again to exit at once",
                name,
                delay,
                drain,
            )
        else:
            why = f"for {name}" if started else "as the startup never finished"
            logger.info(
                "%s received: the listener closes now (no pre-stop delay %s) and in-flight "
                "work gets up to %gs; send it again to exit at once",
                name,
                why,
                drain,
            )
        self.begin(delay)

    def on_startup_failure(self) -> None:
        # Never ready, so no endpoint to wait out: stop at once, and say so
        # with the status uvicorn gives a failed lifespan startup.
        self.exit_code = EXIT_STARTUP_FAILED
        self.begin(0.0)

    def begin(self, prestop_delay: float) -> None:
        if self.task is None:
            state = self.http.server_state
            self.counts = _DrainCounts(self.loop.time(), state.total_requests)
            self.task = self.loop.create_task(self._run(prestop_delay, self.counts))

    async def _run(self, prestop_delay: float, counts: _DrainCounts) -> None:
        lifecycle = self.app.lifecycle
        lifecycle.begin_drain()
        await asyncio.sleep(prestop_delay)
        state = self.http.server_state
        counts.prestop_requests = state.total_requests - counts.requests_at_signal
        # Requests being answered as the listener closes (uvicorn's task per request).
        counts.in_flight_at_close = len(state.tasks)
        self.http.should_exit = True
        drain = self.settings.drain_timeout_seconds
        lifecycle.drain_until(self.loop.time() + drain)
        await asyncio.sleep(drain)
        lifecycle.pass_deadline()
        counts.cut_off = self.app.abort_calls()

    def log_summary(self) -> None:
        """One line: what the drain served, finished, cut off and cancelled, and how long."""
        counts = self.counts
        if counts is None:
            return
        seconds = self.loop.time() - counts.began
        completed = max(0, counts.in_flight_at_close - counts.cut_off)
        cancelled = self.app.lifespan.tasks.cancelled
        logger.info(
            "drained in %.1fs: %d request(s) served during the pre-stop delay, "
            "%d in flight at close completed, %d cut off at the drain deadline, "
            "%d background task(s) cancelled",
            seconds,
            counts.prestop_requests,
            completed,
            counts.cut_off,
            cancelled,
            extra={
                "drain_seconds": round(seconds, 3),
                "prestop_requests": counts.prestop_requests,
                "completed": completed,
                "cut_off": counts.cut_off,
                "tasks_cancelled": cancelled,
            },
        )


def _config(app: Any, settings: Settings, port: int, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=port,
        log_config=None,
        log_level=settings.log_level,
        access_log=settings.access_log,
        server_header=False,
        # httptools with bounds on request heads and bodies: uvicorn itself sets none.
        http=bounded_protocol(
            settings.max_header_bytes,
            settings.header_timeout_seconds,
            settings.body_timeout_seconds,
        ),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        **options,
    )


async def serve(
    app: RuntimeApp,
    metrics_app: ASGIApp | None,
    settings: Settings,
    sockets: list[socket.socket] | None = None,
) -> int:
    """Serve ``app`` and ``metrics_app`` until a signal; return the exit status.

    A worker of ``GL_WORKERS`` passes the HTTP listening socket it inherited
    in ``sockets``, and no ``metrics_app`` (the supervisor serves the metrics).
    """
    loop = asyncio.get_running_loop()
    http = _Server(
        _config(
            app,
            settings,
            settings.http_port,
            lifespan="on",
            timeout_graceful_shutdown=settings.drain_timeout_seconds + _ABORT_GRACE_SECONDS,
        ),
        "the agent's HTTP API",
    )
    metrics = None
    if metrics_app is not None:
        metrics = _Server(
            _config(metrics_app, settings, settings.metrics_port, lifespan="off"),
            "Prometheus metrics",
            METRICS_PATH,
        )
    shutdown = _Shutdown(app, http, settings, loop)
    forget = app.lifecycle.when_startup_fails(shutdown.on_startup_failure)
    restore = _own_signals(loop, shutdown.on_signal)
    metrics_task = None if metrics is None else loop.create_task(_exit_status_of(metrics.serve()))
    try:
        if metrics is not None and metrics_task is not None:
            # uvicorn offers no event for "listening"; poll its flag.
            while not metrics.started and not metrics_task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if metrics_task.done():
                return metrics_task.result()
        status = await _exit_status_of(http.serve(sockets))
        shutdown.log_summary()
        if status != 0:
            return status
        return shutdown.exit_code
    finally:
        if shutdown.task is not None:
            shutdown.task.cancel()
        if metrics is not None and metrics_task is not None:
            metrics.should_exit = True
            with contextlib.suppress(BaseException):
                await metrics_task
        restore()
        forget()


async def _exit_status_of(serving: Awaitable[None]) -> int:
    """Await a uvicorn ``serve()``; its ``sys.exit`` (port in use, failed startup) as a status."""
    try:
        await serving
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def _own_signals(
    loop: asyncio.AbstractEventLoop, handler: Callable[[int], None]
) -> Callable[[], None]:
    """Route SIGTERM and SIGINT to ``handler``; return a function that undoes it."""
    if threading.current_thread() is not threading.main_thread():
        logger.warning("not in the main thread: SIGTERM and SIGINT are left as they are")
        return lambda: None
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, handler, signum)

    def restore() -> None:
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)

    return restore
