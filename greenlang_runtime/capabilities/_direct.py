"""A capability called directly from Python: the author's function, measured.

Same arguments, result and exceptions as the function itself; the call
passes through the capability's seam (:mod:`._seam`) like an HTTP call, and
waits for a slot when the capability has ``max_concurrency``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from greenlang_runtime.capabilities._seam import BeginFn, EndFn
from greenlang_runtime.capabilities._slots import Slots

__all__ = ["direct_async", "direct_sync"]


def direct_sync(
    function: Callable[..., Any], begin: BeginFn, end: EndFn, slots: Slots | None
) -> Callable[..., Any]:
    """``function`` measured, for direct calls from sync code."""

    @functools.wraps(function)
    def measured(*args: Any, **kwargs: Any) -> Any:
        begun = begin(args[0] if args else kwargs)
        try:
            if slots is None:
                result = function(*args, **kwargs)
            else:
                slots.acquire()
                try:
                    result = function(*args, **kwargs)
                finally:
                    slots.release()
        except BaseException as error:
            end(begun, error)
            raise
        end(begun, None)
        return result

    return measured


def direct_async(
    function: Callable[..., Any], begin: BeginFn, end: EndFn, slots: Slots | None
) -> Callable[..., Any]:
    """The coroutine function ``function``, measured when awaited."""

    @functools.wraps(function)
    async def measured(*args: Any, **kwargs: Any) -> Any:
        begun = begin(args[0] if args else kwargs)
        try:
            if slots is None:
                result = await function(*args, **kwargs)
            else:
                await slots.acquire_async()
                try:
                    result = await function(*args, **kwargs)
                finally:
                    slots.release()
        except BaseException as error:
            end(begun, error)
            raise
        end(begun, None)
        return result

    return measured
