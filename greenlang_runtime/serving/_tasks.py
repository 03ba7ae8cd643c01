"""Work that outlives its request, tracked so that the drain waits for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["TaskTracker"]

logger = logging.getLogger("greenlang_runtime")

_T = TypeVar("_T")

# After cancelling what is left at the deadline, how long it gets to unwind.
_UNWIND_SECONDS = 1.0


class TaskTracker:
    """The tasks started with ``runtime.create_task``; the drain waits for them.

    Args:
        count_error: counts one error of the given type (``agent_errors_total``).
    """

    def __init__(self, count_error: Callable[[str], None]) -> None:
        self._count_error = count_error
        self._tasks: set[asyncio.Task[Any]] = set()
        # Cancelled at a drain deadline, for the drain's summary line.
        self.cancelled = 0

    def __len__(self) -> int:
        return len(self._tasks)

    def create(self, coro: Coroutine[Any, Any, _T], name: str | None = None) -> asyncio.Task[_T]:
        """Start ``coro`` on the running loop and track it until it ends."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()  # never awaited: say nothing more about it
            raise RuntimeError(
                "runtime.create_task() needs a running event loop: call it from a capability, "
                "a hook or other async code of the agent."
            ) from None
        task = loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._count_error(type(error).__name__)
            logger.error(
                "background task %s raised %s",
                task.get_name(),
                type(error).__name__,
                exc_info=error,
            )

    async def drain(self, seconds: float) -> None:
        """Wait up to ``seconds`` for every tracked task; cancel and log the rest."""
        pending = {t for t in self._tasks if t is not asyncio.current_task()}
        if not pending:
            return
        logger.info("waiting up to %.1f s for %d background task(s)", seconds, len(pending))
        _, late = await asyncio.wait(pending, timeout=max(0.0, seconds))
        if not late:
            return
        for task in late:
            logger.error(
                "background task %s did not finish by the drain deadline: cancelled",
                task.get_name(),
            )
            self._count_error("CancelledError")
            task.cancel()
        self.cancelled += len(late)
        await asyncio.wait(late, timeout=_UNWIND_SECONDS)
