"""The settler: one thread that settles ended calls and keeps running calls' reservations alive.

A call can end anywhere: in the caller's thread, on an event loop, in a
stream dropped by the garbage collector. Its end only appends to a queue;
this thread sends the settles to Redis in batches (one round trip each) and
keeps those that failed for the next try, so an outage delays a settle but
never loses it (up to :data:`MAX_WAITING`). Every ``refresh_seconds`` it also
moves the expiry of the reservations of calls still running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final

__all__ = ["MAX_WAITING", "Settler"]

logger = logging.getLogger("greenlang_runtime.llm")

# Settles kept while Redis is unreachable; past this the oldest are dropped (logged).
MAX_WAITING: Final = 100_000
_BATCH: Final = 200
# Pause between two tries while Redis is unreachable.
_RETRY_SECONDS: Final = 0.5


class Settler:
    """Runs ``settle(batch)`` for queued items and ``refresh()`` every ``refresh_seconds``.

    Args:
        settle: sends a batch to Redis; raises when it could not.
        refresh: moves the expiry of the live reservations; raises when it could not.
        refresh_seconds: time between two refreshes.
        failed: told of each failure (the guard's outage bookkeeping).
    """

    def __init__(
        self,
        settle: Callable[[Sequence[Any]], None],
        refresh: Callable[[], None],
        refresh_seconds: float,
        failed: Callable[[BaseException], None],
    ) -> None:
        self._settle = settle
        self._refresh = refresh
        self._refresh_seconds = refresh_seconds
        self._failed = failed
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = False
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dropped = 0
        # Settles that could not be sent yet (Redis unreachable), tried again.
        self._waiting: list[Any] = []

    def submit(self, item: Any) -> None:
        """Queue ``item`` for settling; cheap and safe from any thread, or a finaliser."""
        self._queue.append(item)
        if self._thread is None:
            self.start()
        self._wake.set()

    @property
    def running(self) -> bool:
        """Whether the thread has been started."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (once)."""
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="greenlang-llm-budget", daemon=True
                )
                self._thread.start()

    def flush(self, timeout: float) -> bool:
        """Wait until every queued settle has reached Redis; ``False`` at the timeout."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        with self._idle:
            while self._queue or self._busy or self._waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout: float) -> bool:
        """Settle what is queued (up to ``timeout``), then stop the thread."""
        flushed = self.flush(timeout)
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=1.0)
        return flushed

    def _run(self) -> None:
        next_refresh = time.monotonic() + self._refresh_seconds
        while not self._closed:
            refresh_in = max(0.0, next_refresh - time.monotonic())
            pause = _RETRY_SECONDS if self._waiting else refresh_in
            self._wake.wait(pause)
            self._wake.clear()
            with self._lock:
                self._busy = True
            try:
                self._waiting = self._settle_all(self._waiting)
                if time.monotonic() >= next_refresh:
                    next_refresh = time.monotonic() + self._refresh_seconds
                    self._try(self._refresh)
            finally:
                with self._idle:
                    self._busy = False
                    if not self._queue and not self._waiting:
                        self._idle.notify_all()

    def _settle_all(self, waiting: list[Any]) -> list[Any]:
        """Send the waiting and the queued settles; return those that could not be sent."""
        queue = self._queue
        while waiting or queue:
            while queue and len(waiting) < _BATCH:
                waiting.append(queue.popleft())
            batch, waiting = waiting[:_BATCH], waiting[_BATCH:]
            if not self._try(lambda batch=batch: self._settle(batch)):  # type: ignore[misc]
                kept = batch + waiting + list(queue)
                queue.clear()
                return self._bounded(kept)
        return []

    def _bounded(self, kept: list[Any]) -> list[Any]:
        """Keep at most :data:`MAX_WAITING` settles; log the first drop of an outage."""
        over = len(kept) - MAX_WAITING
        if over <= 0:
            self._dropped = 0
            return kept
        if not self._dropped:
            logger.error(
                "LLM budget: %d settles could not reach Redis and are dropped (at most %d "
                "wait); their spend is missing from the budget's committed figure",
                over,
                MAX_WAITING,
            )
        self._dropped += over
        return kept[over:]

    def _try(self, operation: Callable[[], None]) -> bool:
        try:
            operation()
        except Exception as error:
            self._failed(error)
            return False
        return True
