"""Serving an agent from the command line: one process, or a supervisor and its workers.

``run`` checks the address, sets up logging and picks how to serve: the
single process of :mod:`greenlang_runtime.serving.server`, or with
``GL_WORKERS`` the supervisor (or, in a child it started, a worker) of
:mod:`greenlang_runtime.serving.workers`. It sits above both, so that
neither imports the other's caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from greenlang_runtime._types import ASGIApp
from greenlang_runtime.config import Settings, parse_setting
from greenlang_runtime.exceptions import ConfigError
from greenlang_runtime.logs import configure_logging, log_secrets
from greenlang_runtime.serving.app import RuntimeApp
from greenlang_runtime.serving.server import serve
from greenlang_runtime.serving.workers import WORKER_VARIABLE

__all__ = ["run"]

logger = logging.getLogger("greenlang_runtime")

# After the loop has closed, how long idle worker threads get to end.
_THREADS_GRACE_SECONDS = 1.0


def run(
    app: RuntimeApp,
    metrics_app: ASGIApp,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    metrics_port: int | None = None,
) -> int:
    """Serve ``app`` and ``metrics_app`` in a new event loop; return the exit status.

    ``host``, ``port`` and ``metrics_port`` override ``settings``.
    """
    settings = _with_options(settings, host, port, metrics_port)
    _check_resolves(settings.http_host, "GL_HTTP_HOST" if host is None else "--host")
    configure_logging(settings, app.metrics.identity, log_secrets(settings))
    serving: Coroutine[Any, Any, int]
    if WORKER_VARIABLE in os.environ or settings.workers != 1:
        # GL_WORKERS: this process is a worker, or the supervisor of several.
        from greenlang_runtime.serving.workers import serve_worker, supervise, worker_seat

        seat = worker_seat()
        if seat is not None:
            serving = serve_worker(app, metrics_app, settings, seat)
        elif (count := _worker_count(settings.workers)) > 1:
            serving = supervise(app, metrics_app, settings, count)
        else:
            serving = serve(app, metrics_app, settings)
    else:
        serving = serve(app, metrics_app, settings)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        status = runner.run(serving)
    _leave_abandoned_threads(status)
    return status


def _worker_count(workers: int | str) -> int:
    """``GL_WORKERS`` as a number: ``auto`` is the CPUs the container may use."""
    if workers != "auto":
        return int(workers)
    from greenlang_runtime._cpu_limit import auto_workers, cgroup_cpu_limit, runnable_cpus

    count = auto_workers()
    logger.info(
        "GL_WORKERS=auto: %d worker(s) (CPU limit %s, %d CPU(s) runnable)",
        count,
        cgroup_cpu_limit() or "none",
        runnable_cpus(),
    )
    return count


def _with_options(
    settings: Settings, host: str | None, port: int | None, metrics_port: int | None
) -> Settings:
    """``settings`` with the command-line options applied; errors name the option."""
    http_port = settings.http_port if port is None else port
    metrics = settings.metrics_port if metrics_port is None else metrics_port
    if http_port == metrics:
        option, value = ("--port", port) if port is not None else ("--metrics-port", metrics)
        raise ConfigError(
            option, str(value), f"the HTTP and metrics ports must differ (both are {http_port})"
        )
    return dataclasses.replace(
        settings,
        http_host=settings.http_host
        if host is None
        else str(parse_setting("http_host", host, "--host")),
        http_port=http_port,
        metrics_port=metrics,
    )


def _check_resolves(host: str, name: str) -> None:
    """Refuse a host name with no address, naming where it came from.

    Its spelling was checked with the settings; whether it resolves is a
    fact of the network, known only here, where the listeners bind it.
    """
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError):
        raise ConfigError(
            name, host, "no address is known by that host name to listen on"
        ) from None


def _leave_abandoned_threads(status: int) -> None:
    """Exit now if worker threads still run work given up on at the deadlines.

    Calls answered 503 at the drain deadline, and sync hooks past their
    timeout, may still run in (non-daemon) worker threads, which would hold
    the exit until Kubernetes kills the pod. Idle threads are given a moment
    to end first.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    deadline = time.monotonic() + _THREADS_GRACE_SECONDS
    busy = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            busy.append(thread.name)
    if busy:
        logger.warning(
            "exiting with %d thread(s) still running abandoned work: %s", len(busy), ", ".join(busy)
        )
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
