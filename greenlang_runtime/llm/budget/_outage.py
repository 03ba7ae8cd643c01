"""Redis outages as the budget sees them: one log line each, and no waiting on a Redis just lost."""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from greenlang_runtime.llm.budget._store import redis_errors

__all__ = ["Outage"]

logger = logging.getLogger("greenlang_runtime.llm")

# After a failed Redis operation, calls do not try Redis again for this long
# (a down Redis costs them nothing, a hung one its timeout only once).
RECHECK_SECONDS: Final = 0.5


class Outage:
    """Whether the budget's Redis is reachable, as its last operations found.

    Args:
        on_error: ``allow`` or ``deny`` (named in the log line).
    """

    def __init__(self, on_error: str) -> None:
        self._on_error = on_error
        self._errors: tuple[type[BaseException], ...] | None = None
        self._down = False
        self._recheck_at = 0.0
        self._lock = threading.Lock()

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """What a failed Redis operation raises (loaded with redis, at first use)."""
        errors = self._errors
        if errors is None:
            errors = self._errors = redis_errors()
        return errors

    def skip(self) -> bool:
        """Whether Redis failed so recently that calls should not wait for it again yet."""
        return self._down and time.monotonic() < self._recheck_at

    def failed(self, error: BaseException) -> None:
        """A Redis operation failed: one log line per outage, never one per call."""
        with self._lock:
            self._recheck_at = time.monotonic() + RECHECK_SECONDS
            if self._down:
                return
            self._down = True
        mode = self._on_error
        logger.warning(
            "LLM budget: Redis is unreachable (%s); until it is back, calls are %s "
            "(GL_LLM_BUDGET_ON_ERROR=%s). Logged once per outage.",
            type(error).__name__,
            "let through unchecked" if mode == "allow" else "refused",
            mode,
        )

    def up(self) -> None:
        """A Redis operation succeeded: the outage, if any, is over."""
        if self._down:
            with self._lock:
                self._down = False
