"""Runs every check in the background and keeps what the probes read."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from greenlang_runtime.checks._check import Check, CheckState, Status, describe_failure
from greenlang_runtime.checks._collector import DependencyMetrics
from greenlang_runtime.checks.custom import DependencyDown
from greenlang_runtime.exceptions import CheckError

__all__ = ["CheckRunner", "Report"]

logger = logging.getLogger("greenlang_runtime")

# (ready, top-level status, the checks entry of a probe body)
Report = tuple[bool, str, dict[str, Any]]

# Closing a check's connection at shutdown; bounded, the pod is leaving anyway.
_CLOSE_TIMEOUT_SECONDS = 1.0


# Probes that ignored their cancellation at shutdown: kept referenced, never awaited.
_LEFT_BEHIND: list[asyncio.Task[BaseException | None]] = []


async def _guarded(check: Check) -> BaseException | None:
    """Run one probe to its end: what it raised, or ``None`` on a clean return."""
    try:
        await check.probe()
    except asyncio.CancelledError as error:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the runner's own cancellation (timeout or shutdown)
        return error  # raised by the check itself: a failure like any other
    except BaseException as error:  # every way a check ends is a result
        return error
    return None


class CheckRunner:
    """The agent's dependency checks: each in its own task, on its own interval.

    Checks run in parallel and each is bounded by its own timeout. Probes
    call :meth:`report`, which reads the last results from memory and never
    waits on a dependency.

    Args:
        metrics: where each check's result and duration are recorded.
        fall: consecutive failures that turn an ``up`` check ``down``.
        rise: consecutive successes that turn a ``down`` check ``up``.
        trace_failure: when tracing is on, told of each failed check:
            (dependency, seconds, error type, reason).
    """

    def __init__(
        self,
        metrics: DependencyMetrics,
        *,
        fall: int = 2,
        rise: int = 2,
        trace_failure: Callable[[str, float, str, str], None] | None = None,
    ) -> None:
        self.metrics = metrics
        self.fall = fall
        self.rise = rise
        self.states: dict[str, CheckState] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # Per check, a probe given up on at its timeout that has not ended yet.
        self._abandoned: dict[str, asyncio.Task[BaseException | None]] = {}
        self.trace_failure = trace_failure

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
        await self._leave_abandoned()
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

    async def _probe(self, check: Check) -> BaseException | None:
        """Run ``check``'s probe within its timeout; what it raised, ``None`` on a clean return.

        The probe runs in a task of its own, which catches everything it
        raises (``KeyboardInterrupt`` and ``SystemExit`` included, which
        would otherwise end the event loop) and turns it into a result. At
        the timeout the task is cancelled but not waited for: a probe that
        swallows its cancellation is left behind, and until it ends later
        probes of the same check fail at once.
        """
        previous = self._abandoned.get(check.name)
        if previous is not None:
            if not previous.done():
                return DependencyDown(f"the previous {check.name} check has not returned yet")
            del self._abandoned[check.name]
        task = asyncio.get_running_loop().create_task(
            _guarded(check), name=f"greenlang-probe-{check.name}"
        )
        try:
            done, _ = await asyncio.wait((task,), timeout=check.timeout)
        finally:
            if not task.done():
                task.cancel()
                self._abandoned[check.name] = task
        return task.result() if done else TimeoutError()

    async def _leave_abandoned(self) -> None:
        """Give probes left behind at their timeout a bounded moment to end, then leave them.

        One that still runs (it swallows cancellation) is taken off the
        loop's task list, so that closing the loop (or ``asyncio.run``) does
        not wait for it forever.
        """
        tasks = [t for t in self._abandoned.values() if not t.done()]
        self._abandoned.clear()
        if not tasks:
            return
        for task in tasks:
            task.cancel()
        _, pending = await asyncio.wait(tasks, timeout=_CLOSE_TIMEOUT_SECONDS)
        for task in pending:
            logger.warning("a %s check ignored its cancellation; left running", task.get_name())
            _LEFT_BEHIND.append(task)
            asyncio.tasks._unregister_task(task)

    async def _check_once(self, state: CheckState) -> None:
        check = state.check
        started = time.perf_counter()
        error = await self._probe(check)
        seconds = time.perf_counter() - started
        if error is None:
            changed = state.succeeded(seconds)
        else:
            reason = describe_failure(error, check.timeout, check.secrets)
            changed = state.failed(seconds, reason)
            if self.trace_failure is not None:
                self.trace_failure(check.name, seconds, type(error).__name__, reason)
        self.metrics.observe(check.name, seconds, state.status is Status.UP)
        if changed:
            if state.status is Status.UP:
                logger.info("dependency %s is up (%.1f ms)", check.name, seconds * 1000)
            else:
                logger.warning("dependency %s is down: %s", check.name, state.error)
