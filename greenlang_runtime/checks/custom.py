"""Checks written by the agent author: any function that raises when its dependency is down."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from greenlang_runtime.checks._check import Check

__all__ = ["DependencyDown", "custom_check"]


class DependencyDown(Exception):
    """A custom check returned ``False``: the dependency is down."""


def custom_check(
    function: Callable[[], Any],
    *,
    name: str,
    critical: bool = True,
    timeout: float,
    interval: float,
) -> Check:
    """A check that calls ``function``: down when it raises or returns ``False``.

    An async function (or an object with an ``async def __call__``) is
    awaited on the event loop; a sync one runs in a worker thread, so a slow
    one never stalls the loop, and an awaitable it returns is then awaited on
    the loop. A sync function still running when its timeout strikes is
    abandoned (a thread cannot be stopped), and until it returns, later
    probes fail at once instead of stacking up threads.
    """
    if _is_async(function):

        async def probe() -> None:
            await _settle(function(), name)

        return Check(name, probe, critical=critical, timeout=timeout, interval=interval)

    running = False

    def call() -> tuple[bool, Any]:
        nonlocal running
        try:
            # Caught here, in the thread: KeyboardInterrupt or SystemExit
            # raised by the check must not travel as if the process got it.
            return True, function()
        except BaseException as error:  # reported as the check's failure
            return False, error
        finally:
            running = False

    async def probe_in_thread() -> None:
        nonlocal running
        if running:
            raise DependencyDown(f"the previous {name} check has not returned yet")
        running = True
        returned, value = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        if not returned:
            raise value
        await _settle(value, name)

    return Check(name, probe_in_thread, critical=critical, timeout=timeout, interval=interval)


def _is_async(function: Callable[[], Any]) -> bool:
    """Whether calling ``function`` makes a coroutine (a function, partial or callable object)."""
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - the object's own __call__
    )


async def _settle(result: Any, name: str) -> None:
    """Await ``result`` while it is awaitable; a final ``False`` means the dependency is down."""
    while inspect.isawaitable(result):
        result = await result
    if result is False:
        raise DependencyDown(f"{name} check returned False")
