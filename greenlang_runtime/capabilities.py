"""Capabilities: an author's functions, wrapped so that every call is measured."""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from greenlang_runtime.exceptions import CapabilityError
from greenlang_runtime.metrics import AgentMetrics, CallRecorder

__all__ = ["Capability", "wrap_capability"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True, slots=True)
class Capability:
    """A declared capability.

    Args:
        name: the name in ``/v1/capabilities/{name}`` and the ``capability`` label.
        description: first line of the function's docstring, or empty.
        function: the measured wrapper (what the decorator returned).
        is_async: whether ``function`` returns an awaitable.
        max_concurrency: calls allowed at once; ``None`` means unlimited.
    """

    name: str
    description: str
    function: Callable[..., Any]
    is_async: bool
    max_concurrency: int | None


def check_name(name: str) -> str:
    """Return ``name`` if it can be a capability name, else raise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CapabilityError(
            f"Capability name {name!r} is invalid: use 1 to 63 letters, digits, "
            "'_', '.' or '-', starting with a letter or digit."
        )
    return name


def check_max_concurrency(name: str, max_concurrency: object) -> int | None:
    """Return ``max_concurrency`` if it is ``None`` or a whole number >= 1, else raise."""
    if max_concurrency is None:
        return None
    if (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise CapabilityError(
            f"max_concurrency={max_concurrency!r} is invalid for capability {name!r}: "
            "it must be a whole number of at least 1, or None."
        )
    return max_concurrency


def describe(function: Callable[..., Any]) -> str:
    """The first line of ``function``'s docstring, or an empty string."""
    doc = inspect.getdoc(function)
    return doc.strip().splitlines()[0] if doc and doc.strip() else ""


def wrap_capability(
    function: Callable[..., Any],
    metrics: AgentMetrics,
    recorder: CallRecorder,
    max_concurrency: int | None,
) -> Callable[..., Any]:
    """Wrap ``function`` so each call is recorded; it stays sync or async as it was.

    The wrapper returns what the function returns and raises what it raises.
    """
    if inspect.iscoroutinefunction(function):
        return _wrap_async(function, metrics, recorder, max_concurrency)
    return _wrap_sync(function, metrics, recorder, max_concurrency)


def _wrap_sync(
    function: Callable[..., Any],
    metrics: AgentMetrics,
    recorder: CallRecorder,
    max_concurrency: int | None,
) -> Callable[..., Any]:
    start, record = metrics.start, recorder.record

    if max_concurrency is None:

        @functools.wraps(function)
        def measured(*args: Any, **kwargs: Any) -> Any:
            started = start()
            try:
                result = function(*args, **kwargs)
            except BaseException as error:
                record(started, True, type(error).__name__)
                raise
            record(started, False)
            return result

        return measured

    slots = threading.BoundedSemaphore(max_concurrency)

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        started = start()
        try:
            if not slots.acquire(blocking=False):
                metrics.wait_begins()
                try:
                    slots.acquire()
                finally:
                    metrics.wait_ends()
            try:
                result = function(*args, **kwargs)
            finally:
                slots.release()
        except BaseException as error:
            record(started, True, type(error).__name__)
            raise
        record(started, False)
        return result

    return limited


def _wrap_async(
    function: Callable[..., Any],
    metrics: AgentMetrics,
    recorder: CallRecorder,
    max_concurrency: int | None,
) -> Callable[..., Any]:
    start, record = metrics.start, recorder.record

    if max_concurrency is None:

        @functools.wraps(function)
        async def measured(*args: Any, **kwargs: Any) -> Any:
            started = start()
            try:
                result = await function(*args, **kwargs)
            except BaseException as error:
                record(started, True, type(error).__name__)
                raise
            record(started, False)
            return result

        return measured

    # asyncio primitives belong to one event loop; tests and workers may run
    # the capability on several, one after another.
    per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
        weakref.WeakKeyDictionary()
    )

    @functools.wraps(function)
    async def limited(*args: Any, **kwargs: Any) -> Any:
        started = start()
        loop = asyncio.get_running_loop()
        slots = per_loop.get(loop)
        if slots is None:
            slots = per_loop[loop] = asyncio.Semaphore(max_concurrency)
        try:
            if slots.locked():
                metrics.wait_begins()
                try:
                    await slots.acquire()
                finally:
                    metrics.wait_ends()
            else:
                await slots.acquire()
            try:
                result = await function(*args, **kwargs)
            finally:
                slots.release()
        except BaseException as error:
            record(started, True, type(error).__name__)
            raise
        record(started, False)
        return result

    return limited
