"""The supervisor of ``GL_WORKERS``: the shared socket, the workers, the metrics, the drain.

The supervisor binds the HTTP port once and starts each worker as the
agent's own program again (``sys.orig_argv``), handing it the listening
socket and one end of a socket pair (see ``_worker``). It serves no
capability: it runs the dependency checks once, serves ``/metrics`` merged
from every worker (``metrics/_merge.py``), replaces a worker that exits,
and on SIGTERM or SIGINT runs the single process's timeline across all of
them (docs/workers.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass

from greenlang_runtime._types import ASGIApp
from greenlang_runtime.config import METRICS_PATH, Settings
from greenlang_runtime.metrics import (
    LATENCY_WINDOW_SECONDS,
    Exposition,
    Retired,
    SketchState,
    SlidingQuantiles,
    parse_exposition,
)
from greenlang_runtime.serving.app import RuntimeApp
from greenlang_runtime.serving.workers._channel import Snapshot, View, receive, send
from greenlang_runtime.serving.workers._exposition import MergedMetrics, make_merged_metrics_app
from greenlang_runtime.serving.workers._worker import WORKER_VARIABLE, WorkerSeat, scrape

__all__ = ["CRASH_LOOP_EXITS", "CRASH_LOOP_SECONDS", "supervise"]

logger = logging.getLogger("greenlang_runtime")

# How often each worker is asked for its metrics between scrapes: bounds the
# counts lost with a worker killed outright (SIGKILL, OOM) to this interval.
POLL_SECONDS = 0.5
# What a scrape waits for a worker's answer before serving its last one.
SCRAPE_WAIT_SECONDS = 2.0
# This many unplanned worker exits within CRASH_LOOP_SECONDS fail liveness.
CRASH_LOOP_EXITS = 5
CRASH_LOOP_SECONDS = 60.0
_EXIT_STARTUP_FAILED = 3
# Past the grace period the workers were given, how long before they are killed.
_KILL_MARGIN_SECONDS = 5.0


def _empty_sketch() -> SlidingQuantiles:
    return SlidingQuantiles(LATENCY_WINDOW_SECONDS, now=time.perf_counter())


@dataclass
class _Worker:
    """One worker process and what the supervisor last heard from it."""

    index: int
    process: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    text: str = ""
    parsed: Exposition | None = None
    sketch: SketchState | None = None
    phase: str = "starting"
    answered_at: float | None = None
    pending: asyncio.Task[None] | None = None
    gone: bool = False

    async def exchange(self, view: View) -> None:
        """Send the view; take the snapshot it is answered with."""
        try:
            await send(self.writer, view)
            snapshot: Snapshot = await receive(self.reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.gone = True
            return
        # Parsed only when needed (a scrape, an exit): most polls are never read.
        self.text, self.parsed = snapshot.exposition, None
        self.sketch = snapshot.sketch
        self.phase = snapshot.phase
        self.answered_at = time.monotonic()

    @property
    def exposition(self) -> Exposition:
        """The worker's last metrics, parsed."""
        if self.parsed is None:
            self.parsed = parse_exposition(self.text)
        return self.parsed

    async def refresh(self, view: View, wait: float) -> None:
        """Ask for a snapshot (unless one is on its way) and wait up to ``wait`` for it."""
        if self.gone:
            return
        if self.pending is None or self.pending.done():
            self.pending = asyncio.get_running_loop().create_task(self.exchange(view))
        await asyncio.wait({self.pending}, timeout=wait)


class Supervisor:
    """Starts, watches, replaces and drains the workers; serves their merged metrics.

    Args:
        app: the agent as built in this process (its checks run here).
        metrics_app: this process's own ``/metrics`` (its memory, CPU, checks).
        settings: ports, drain and pre-stop seconds, the stall threshold.
        count: how many workers.
        listener: the bound HTTP socket every worker serves.
    """

    def __init__(
        self,
        app: RuntimeApp,
        metrics_app: ASGIApp,
        settings: Settings,
        count: int,
        listener: socket.socket,
    ) -> None:
        self.app = app
        self.metrics_app = metrics_app
        self.settings = settings
        self.count = count
        self.listener: socket.socket | None = listener
        self.workers: dict[int, _Worker] = {}
        self.retired = Retired(_empty_sketch())
        self.own = Exposition()
        self.exits: collections.deque[float] = collections.deque()
        self.draining = False
        self.exit_code = 0
        self.signalled = False
        self.drain_began: float | None = None
        self.done = asyncio.Event()
        self.collector = MergedMetrics(lambda: self.own, self._worker_metrics, _empty_sketch)

    def view(self) -> View:
        """What the workers' probes answer from."""
        live = [w for w in self.workers.values() if not w.gone]
        started = len(live) == self.count and all(w.phase == "serving" for w in live)
        return View(self.app.lifecycle.checks.report(), started, self.draining, self.failing())

    def failing(self) -> str | None:
        """Why the pod is not live: a worker's loop stalled, or workers keep exiting."""
        now = time.monotonic()
        while self.exits and now - self.exits[0] > CRASH_LOOP_SECONDS:
            self.exits.popleft()
        if len(self.exits) >= CRASH_LOOP_EXITS:
            return f"{len(self.exits)} workers exited in the last {CRASH_LOOP_SECONDS:g} s"
        threshold = self.settings.loop_stall_seconds
        for worker in self.workers.values():
            if worker.answered_at is not None and not worker.gone:
                silent = now - worker.answered_at
                if silent > threshold:
                    return (
                        f"worker {worker.index} has not answered for {silent:.1f} s "
                        f"(threshold GL_LOOP_STALL_SECONDS={threshold:g})"
                    )
        return None

    async def spawn(self, index: int) -> None:
        """Start worker ``index``: this program again, with the socket and a channel."""
        assert self.listener is not None
        ours, theirs = socket.socketpair()
        seat = WorkerSeat(index, self.listener.fileno(), theirs.fileno())
        env = {**os.environ, WORKER_VARIABLE: seat.encode()}
        # This very program, as it was started.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *sys.orig_argv[1:],
            env=env,
            pass_fds=(seat.listen_fd, seat.channel_fd),
            # Signals go to the supervisor alone, which passes each on once.
            start_new_session=True,
        )
        theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        self.workers[index] = _Worker(index, process, reader, writer)
        logger.info(
            "worker %d started (pid %d)",
            index,
            process.pid,
            extra={"worker": index, "pid": process.pid},
        )

    async def refresh(self) -> None:
        """For a scrape: every worker's metrics now, and this process's own."""
        await self.poll(SCRAPE_WAIT_SECONDS)
        self.own = parse_exposition(await scrape(self.metrics_app))

    async def poll(self, wait: float) -> None:
        """Tell every worker the view; take its metrics, waiting up to ``wait`` for each."""
        view = self.view()
        await asyncio.gather(*(w.refresh(view, wait) for w in list(self.workers.values())))

    def _worker_metrics(self) -> list[tuple[Exposition, SketchState | None]]:
        workers = [(w.exposition, w.sketch) for w in self.workers.values()]
        retired = self.retired.exposition(), self.retired.sketch.state(time.perf_counter())
        return [*workers, retired]

    async def watch(self) -> None:
        """Poll the workers; retire and replace those that exit; end when all have drained."""
        while True:
            await self.poll(POLL_SECONDS)
            for worker in list(self.workers.values()):
                status = worker.process.returncode
                if status is not None:
                    await self._retire(worker, status)
            if self.draining and not self.workers:
                self.done.set()
                return
            if self.drain_began is not None and time.monotonic() > self.drain_began + (
                self.settings.termination_grace_seconds + _KILL_MARGIN_SECONDS
            ):
                for worker in self.workers.values():
                    logger.error("worker %d did not exit in the grace period: killed", worker.index)
                    _signal(worker, signal.SIGKILL)
                self.exit_code = 1
            await asyncio.sleep(POLL_SECONDS)

    async def _retire(self, worker: _Worker, status: int) -> None:
        """Keep an exited worker's counts for good; replace it unless draining."""
        del self.workers[worker.index]
        worker.writer.close()
        self.retired.add(worker.exposition, worker.sketch)
        held = worker.exposition.samples("agent_inflight_requests")
        in_flight = int(sum(held.values()))
        if self.draining:
            if status != 0 and self.exit_code == 0:
                self.exit_code = 1
            logger.info("worker %d exited with %d", worker.index, status)
            return
        self.exits.append(time.monotonic())
        logger.error(
            "worker %d (pid %d) exited with %d, holding %d call(s) in flight at its last "
            "report; replacing it (%d unplanned exit(s) in the last %g s)",
            worker.index,
            worker.process.pid,
            status,
            in_flight,
            len(self.exits),
            CRASH_LOOP_SECONDS,
            extra={"worker": worker.index, "exit_status": status, "in_flight": in_flight},
        )
        if status == _EXIT_STARTUP_FAILED and worker.phase != "serving":
            logger.error("a worker's startup failed: stopping every worker")
            self.exit_code = _EXIT_STARTUP_FAILED
            self.begin_drain(signal.SIGINT)
            return
        if len(self.exits) >= CRASH_LOOP_EXITS:
            await asyncio.sleep(1.0)  # no tight loop of restarts
        await self.spawn(worker.index)

    def on_signal(self, signum: int) -> None:
        """First signal: drain every worker; second: every worker and this process exit now."""
        name = signal.Signals(signum).name
        if self.signalled:
            logger.warning("Second %s: exiting at once", name)
            for worker in self.workers.values():
                _signal(worker, signum)
            os._exit(128 + signum)
        self.signalled = True
        logger.info(
            "%s received: passing it to %d worker(s), each running the drain "
            "(readiness 503 at once); send it again to exit at once",
            name,
            len(self.workers),
        )
        self.begin_drain(signum)

    def begin_drain(self, signum: int) -> None:
        """Readiness 503 everywhere, each worker drains; no worker is replaced from now on."""
        self.draining = True
        self.drain_began = time.monotonic()
        if self.listener is not None:
            # The workers hold the socket open until their own listeners close.
            self.listener.close()
            self.listener = None
        for worker in self.workers.values():
            _signal(worker, signum)


def _signal(worker: _Worker, signum: int) -> None:
    if worker.process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            worker.process.send_signal(signum)


async def supervise(app: RuntimeApp, metrics_app: ASGIApp, settings: Settings, count: int) -> int:
    """Serve with ``count`` workers until a signal and their drain; return the exit status."""
    from greenlang_runtime.serving.server import _config, _exit_status_of, _own_signals, _Server

    try:
        listener = _bind(settings.http_host, settings.http_port)
    except OSError as error:
        logger.error(
            "cannot listen on %s:%d: %s", settings.http_host, settings.http_port, error.strerror
        )
        return 1
    supervisor = Supervisor(app, metrics_app, settings, count, listener)
    loop = asyncio.get_running_loop()
    metrics = _Server(
        _config(
            make_merged_metrics_app(supervisor.collector, supervisor.refresh),
            settings,
            settings.metrics_port,
            lifespan="off",
        ),
        f"Prometheus metrics of {count} workers",
        METRICS_PATH,
    )
    checks = app.lifecycle.checks
    restore = _own_signals(loop, supervisor.on_signal)
    metrics_task = loop.create_task(_exit_status_of(metrics.serve()))
    try:
        # uvicorn offers no event for "listening"; poll its flag.
        while not metrics.started and not metrics_task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if metrics_task.done():
            return metrics_task.result()
        await checks.start()
        logger.info("serving with %d workers (GL_WORKERS) on port %d", count, settings.http_port)
        for index in range(count):
            await supervisor.spawn(index)
        watching = loop.create_task(supervisor.watch())
        await supervisor.done.wait()
        watching.cancel()
        return supervisor.exit_code
    finally:
        restore()
        for worker in supervisor.workers.values():
            _signal(worker, signal.SIGKILL)
        metrics.should_exit = True
        await asyncio.gather(metrics_task, return_exceptions=True)
        await checks.stop()


def _bind(host: str, port: int) -> socket.socket:
    """The HTTP listening socket, bound and listening, to be inherited by every worker."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
