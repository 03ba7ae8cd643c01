"""A thread that notices when the event loop stops running callbacks."""

from __future__ import annotations

import asyncio
import math
import threading
import time

__all__ = ["LoopWatchdog"]


class LoopWatchdog:
    """Pings the event loop from a thread and keeps the latest ping's lag.

    The thread queues a ping with ``call_soon_threadsafe`` and waits for the
    loop to run it. A ping queued during a stall runs before the callbacks of
    any request that arrived during the stall, so the first probe answered
    after a stall already sees it. A stall past ``threshold`` is then still
    reported for ``threshold`` seconds, so that probes spaced seconds apart
    see a loop that keeps stalling, not only the instants between stalls.

    Args:
        threshold: a lag this long counts as a stall.
        interval: seconds between pings.
    """

    def __init__(self, threshold: float, interval: float = 0.5) -> None:
        self.threshold = threshold
        self._interval = interval
        self._sent_at = 0.0
        self._pending = False
        self.last_lag = 0.0
        self._stall = 0.0
        self._stall_ended = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Begin pinging the running loop, forgetting any earlier loop."""
        loop = asyncio.get_running_loop()
        self._pending = False
        self.last_lag = 0.0
        self._stall_ended = -math.inf
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name="greenlang-loop-watchdog", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop pinging; returns once the thread has ended (at once: it waits on the flag)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def lag(self) -> float:
        """The lag to report now: a recent stall, the pending ping's age, or the last lag."""
        now = time.monotonic()
        lag = self.last_lag
        if self._pending:
            lag = max(lag, now - self._sent_at)
        if now - self._stall_ended < self.threshold:
            lag = max(lag, self._stall)
        return lag

    def _pong(self) -> None:
        now = time.monotonic()
        self.last_lag = now - self._sent_at
        self._pending = False
        if self.last_lag >= self.threshold:
            self._stall, self._stall_ended = self.last_lag, now

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.wait(self._interval):
            if self._pending:
                continue
            # In this order: a probe that sees the ping pending must see its time.
            self._sent_at = time.monotonic()
            self._pending = True
            try:
                loop.call_soon_threadsafe(self._pong)
            except RuntimeError:  # the loop has closed
                return
