"""A worker of ``GL_WORKERS``: the agent served on the supervisor's socket.

A worker is the agent's own program started again by the supervisor, with
:data:`WORKER_VARIABLE` naming the two descriptors it inherited: the shared
HTTP listening socket, and its end of the channel to the supervisor. When
the program reaches ``run``, :func:`worker_seat` finds them and the worker
serves exactly as a single process does (same app, same shutdown timeline),
except that:

- it serves no metrics listener: the supervisor asks for its metrics over
  the channel and serves them merged;
- it runs no dependency checks: its probes answer from the supervisor's
  view (its checks, every worker started, not draining, no worker stalled
  or crash-looping) as well as its own phase;
- when the supervisor is gone (the channel closes), it drains and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

from greenlang_runtime._types import ASGIApp, Message
from greenlang_runtime.checks import Report
from greenlang_runtime.config import METRICS_PATH, Settings
from greenlang_runtime.serving.app import RuntimeApp
from greenlang_runtime.serving.workers._channel import Snapshot, View, receive, send

__all__ = ["WORKER_VARIABLE", "SupervisorView", "WorkerSeat", "serve_worker", "worker_seat"]

logger = logging.getLogger("greenlang_runtime")

# Not GL_*: it is no setting, and the unknown-variable warning must not name it.
WORKER_VARIABLE = "GREENLANG_RUNTIME_WORKER"
# Longer than the supervisor's poll interval (0.5 s) plus a loaded machine's delay.
_LAST_ANSWER_SECONDS = 3.0


@dataclass(frozen=True)
class WorkerSeat:
    """What a worker inherited: its number, the listening socket, its channel."""

    index: int
    listen_fd: int
    channel_fd: int

    def encode(self) -> str:
        """The value of :data:`WORKER_VARIABLE` that names this seat."""
        return f"{self.index}:{self.listen_fd}:{self.channel_fd}"


def worker_seat() -> WorkerSeat | None:
    """This process's seat if it is a worker (and forget it, for the author's subprocesses)."""
    raw = os.environ.pop(WORKER_VARIABLE, None)
    if raw is None:
        return None
    index, listen_fd, channel_fd = (int(part) for part in raw.split(":"))
    return WorkerSeat(index, listen_fd, channel_fd)


class SupervisorView:
    """The probes' view in a worker: the latest :class:`View` the supervisor sent."""

    def __init__(self) -> None:
        self.view = View()

    def report(self) -> Report:
        """The supervisor's checks, and every worker started and not draining."""
        view = self.view
        ready, status, checks = view.checks
        if view.draining:
            workers: dict[str, Any] = {"status": "down", "error": "the pod is draining"}
        elif not view.started:
            workers = {"status": "pending", "error": "a worker is still starting"}
        else:
            workers = {"status": "up"}
        ready = ready and workers["status"] == "up"
        return ready, status if ready else "unavailable", {**checks, "workers": workers}

    def failing(self) -> str | None:
        """Why the pod is not live (a worker stalled or crash-looping), as the supervisor says."""
        return self.view.failing


async def serve_worker(
    app: RuntimeApp, metrics_app: ASGIApp, settings: Settings, seat: WorkerSeat
) -> int:
    """Serve ``app`` on the inherited socket until a signal; return the exit status."""
    from greenlang_runtime.serving.server import serve

    listener = socket.socket(fileno=seat.listen_fd)
    channel = socket.socket(fileno=seat.channel_fd)
    peers = SupervisorView()
    app.lifecycle.peers = peers
    # The dependency checks run once, in the supervisor.
    app.lifespan.services = [s for s in app.lifespan.services if s is not app.lifecycle.checks]
    reader, writer = await asyncio.open_unix_connection(sock=channel)
    served = asyncio.Event()
    answering = asyncio.get_running_loop().create_task(
        _answer(reader, writer, app, metrics_app, peers, served)
    )
    try:
        return await serve(app, None, settings, sockets=[listener])
    finally:
        # Answer the supervisor once more, after the last call has ended, so
        # that the counts it keeps of this worker are complete.
        served.set()
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(answering, _LAST_ANSWER_SECONDS)
        writer.close()


async def _answer(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    app: RuntimeApp,
    metrics_app: ASGIApp,
    peers: SupervisorView,
    served: asyncio.Event,
) -> None:
    """Take each view the supervisor sends; answer it with a snapshot of the metrics.

    Ends after the first answer given once ``served`` is set.
    """
    while True:
        try:
            view = await receive(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            if not app.lifecycle.draining:
                logger.warning("the supervisor has gone: draining and exiting")
                os.kill(os.getpid(), signal.SIGTERM)
            return
        peers.view = view
        last = served.is_set()
        await send(writer, await snapshot(app, metrics_app))
        if last:
            return


async def snapshot(app: RuntimeApp, metrics_app: ASGIApp) -> Snapshot:
    """This worker's metrics now: its exposition, its latency sketch and its phase."""
    exposition = await scrape(metrics_app)
    metrics = app.metrics
    with metrics.lock:
        sketch = metrics.latency.state(time.perf_counter())
    return Snapshot(exposition, sketch, app.lifecycle.phase.value)


async def scrape(metrics_app: ASGIApp) -> str:
    """What ``GET /metrics`` on ``metrics_app`` answers, without a listener."""
    body = bytearray()

    async def receive_request() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    scope = {
        "type": "http",
        "method": "GET",
        "path": METRICS_PATH,
        "headers": [],
        "query_string": b"",
    }
    await metrics_app(scope, receive_request, keep)
    return body.decode()
