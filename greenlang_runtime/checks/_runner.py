"""Runs every check in the background and keeps what the probes read."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from greenlang_runtime._redact import redact_text
from greenlang_runtime.checks._check import Check, CheckState, Status, describe_failure
from greenlang_runtime.checks._collector import DependencyMetrics
from greenlang_runtime.exceptions import CheckError

__all__ = ["CheckRunner", "Report"]

logger = logging.getLogger("greenlang_runtime")

# (ready, top-level status, the checks entry of a probe body)
Report = tuple[bool, str, dict[str, Any]]

# Closing a check's connection at shutdown; bounded, the pod is leaving anyway.
_CLOSE_TIMEOUT_SECONDS = 1.0


class CheckRunner:
    """The agent's dependency checks: each in its own task, on its own interval.

    Checks run in parallel and each is bounded by its own timeout. Probes
    call :meth:`report`, which reads the last results from memory and never
    waits on a dependency.

    Args:
        metrics: where each check's result and duration are recorded.
        fall: consecutive failures that turn an ``up`` check ``down``.
        rise: consecutive successes that turn a ``down`` check ``up``.
    """

    def __init__(self, metrics: DependencyMetrics, *, fall: int = 2, rise: int = 2) -> None:
        self.metrics = metrics
        self.fall = fall
        self.rise = rise
        self.states: dict[str, CheckState] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # Set when tracing is on: (dependency, seconds, error type, reason) of a failed check.
        self.trace_failure: Callable[[str, float, str, str], None] | None = None

    def add(self, check: Check) -> None:
        """Register ``check``; a name may be used once."""
        if check.name in self.states:
            raise CheckError(f"A dependency check named {check.name!r} is already declared.")
        self.states[check.name] = CheckState(check, self.fall, self.rise)
        self.metrics.declare(check.name)

    def report(self) -> Report:
        """Readiness as the checks see it: every critical check up, and the probe entries."""
        ready, degraded = True, False
        entries = {}
        for name, state in self.states.items():
            entries[name] = state.view()
            if state.status is not Status.UP:
                if state.check.critical:
                    ready = False
                elif state.status is Status.DOWN:
                    degraded = True
        status = "unavailable" if not ready else "degraded" if degraded else "ok"
        return ready, status, entries

    async def start(self) -> None:
        """Start checking, one task per check (the first checks start at once)."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._keep_checking(state), name=f"greenlang-check-{name}")
            for name, state in self.states.items()
        ]

    async def stop(self) -> None:
        """Stop checking and close what the checks hold open (connections, pools)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        closing = [s.check.close() for s in self.states.values() if s.check.close is not None]
        if not closing:
            return
        try:
            done = await asyncio.wait_for(
                asyncio.gather(*closing, return_exceptions=True), _CLOSE_TIMEOUT_SECONDS
            )
        except TimeoutError:
            logger.warning(
                "dependency connections did not close within %g s", _CLOSE_TIMEOUT_SECONDS
            )
            return
        for result in done:
            if isinstance(result, Exception):
                logger.warning("closing a dependency connection failed: %s", type(result).__name__)

    async def check_all(self) -> None:
        """Run every check once, in parallel (for ``wait-for-dependencies``)."""
        await asyncio.gather(*(self._check_once(s) for s in self.states.values()))

    async def _keep_checking(self, state: CheckState) -> None:
        interval = state.check.interval
        loop = asyncio.get_running_loop()
        next_start = loop.time()
        while True:
            await self._check_once(state)
            # A fixed cadence from start to start; a probe that ran late
            # (up to its timeout) does not push the next one back.
            next_start = max(next_start + interval, loop.time())
            await asyncio.sleep(next_start - loop.time())

    async def _check_once(self, state: CheckState) -> None:
        check = state.check
        started = time.perf_counter()
        error: BaseException | None = None
        try:
            await asyncio.wait_for(check.probe(), check.timeout)
        except asyncio.CancelledError:
            raise
        except Exception as raised:
            error = raised
        seconds = time.perf_counter() - started
        if error is None:
            changed = state.succeeded(seconds)
        else:
            reason = redact_text(describe_failure(error, check.timeout), check.secrets)
            changed = state.failed(seconds, reason)
            if self.trace_failure is not None:
                self.trace_failure(check.name, seconds, type(error).__name__, reason)
        self.metrics.observe(check.name, seconds, state.status is Status.UP)
        if changed:
            if state.status is Status.UP:
                logger.info("dependency %s is up (%.1f ms)", check.name, seconds * 1000)
            else:
                logger.warning("dependency %s is down: %s", check.name, state.error)
