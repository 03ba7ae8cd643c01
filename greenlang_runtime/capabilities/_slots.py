"""A limit on concurrent calls shared by threads and event loops alike."""

from __future__ import annotations

import asyncio
import threading
from collections import deque

from greenlang_runtime.metrics import AgentMetrics

__all__ = ["Slots"]


class _ThreadWaiter:
    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()

    def wake(self) -> bool:
        self.event.set()
        return True


class _LoopWaiter:
    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> bool:
        try:
            self.loop.call_soon_threadsafe(self._resolve)
        except RuntimeError:  # its loop has closed: nobody is waiting any more
            return False
        return True

    def _resolve(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class Slots:
    """``limit`` slots; a caller without one waits, counted in ``agent_queue_depth``.

    asyncio and threading semaphores each serve one world; a capability can
    be called from threads (sync code, worker pools) and from any event loop
    at once, and its limit must hold across all of them. Waiters are served
    first come, first served; a released slot is handed straight to the
    next waiter.

    Args:
        limit: how many holders at once.
        metrics: where the number of waiters is kept.
    """

    def __init__(self, limit: int, metrics: AgentMetrics) -> None:
        self._lock = threading.Lock()
        self._free = limit
        self._waiters: deque[_ThreadWaiter | _LoopWaiter] = deque()
        self._metrics = metrics

    def acquire(self) -> None:
        """Take a slot, blocking this thread until one is free."""
        with self._lock:
            if self._free:
                self._free -= 1
                return
            waiter = _ThreadWaiter()
            self._waiters.append(waiter)
        self._metrics.wait_begins()
        try:
            waiter.event.wait()
        finally:
            self._metrics.wait_ends()

    async def acquire_async(self) -> None:
        """Take a slot, waiting (without blocking the event loop) until one is free."""
        with self._lock:
            if self._free:
                self._free -= 1
                return
            waiter = _LoopWaiter(asyncio.get_running_loop())
            self._waiters.append(waiter)
        self._metrics.wait_begins()
        try:
            await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                handed_over = waiter not in self._waiters
                if not handed_over:
                    self._waiters.remove(waiter)
            if handed_over:  # the slot reached us as we were cancelled: pass it on
                self.release()
            raise
        finally:
            self._metrics.wait_ends()

    def release(self) -> None:
        """Give a slot back, to the longest waiter if there is one."""
        with self._lock:
            while self._waiters:
                if self._waiters.popleft().wake():
                    return
            self._free += 1
