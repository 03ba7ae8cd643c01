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

    An async function is awaited on the event loop; a sync one runs in a
    worker thread, so a slow one never stalls the loop. A sync function still
    running when its timeout strikes is abandoned (a thread cannot be
    stopped), and until it returns, later probes fail at once instead of
    stacking up threads.
    """
    if inspect.iscoroutinefunction(function):

        async def probe() -> None:
            if await function() is False:
                raise DependencyDown(f"{name} check returned False")

        return Check(name, probe, critical=critical, timeout=timeout, interval=interval)

    running = False

    def call() -> Any:
        nonlocal running
        try:
            return function()
        finally:
            running = False

    async def probe_in_thread() -> None:
        nonlocal running
        if running:
            raise DependencyDown(f"the previous {name} check has not returned yet")
        running = True
        if await anyio.to_thread.run_sync(call, abandon_on_cancel=True) is False:
            raise DependencyDown(f"{name} check returned False")

    return Check(name, probe_in_thread, critical=critical, timeout=timeout, interval=interval)
