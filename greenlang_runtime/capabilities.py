"""Capabilities: an author's functions, wrapped so that every call is measured."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from greenlang_runtime._slots import Slots
from greenlang_runtime.exceptions import CapabilityError
from greenlang_runtime.metrics import OTHER, AgentMetrics, CallRecorder

__all__ = ["Capability"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class Capability:
    """A declared capability: the author's function, its limit and its recorder.

    Args:
        function: the author's function, sync or async, taking the payload.
        name: the name in ``/v1/capabilities/{name}`` and the ``capability`` label.
        description: shown by ``GET /v1/capabilities``.
        max_concurrency: calls allowed at once; ``None`` means unlimited.
        metrics: where calls are recorded.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        name: str,
        description: str,
        max_concurrency: int | None,
        metrics: AgentMetrics,
    ) -> None:
        check_name(name)
        check_max_concurrency(name, max_concurrency)
        self.raw = function
        self.name = name
        self.description = description
        self.is_async = inspect.iscoroutinefunction(function)
        self.max_concurrency = max_concurrency
        self.slots = None if max_concurrency is None else Slots(max_concurrency, metrics)
        self.recorder = metrics.recorder(name)
        self.function = _measured(function, self.is_async, metrics, self.recorder, self.slots)

    async def invoke(self, payload: Any) -> Any:
        """Call the raw function with ``payload`` from the event loop, unmeasured.

        Waits for a slot on the loop, not in a worker thread, so calls queued
        behind ``max_concurrency`` never hold threads other work needs; a
        sync function then runs in a worker thread, off the loop.
        """
        slots = self.slots
        if slots is not None:
            await slots.acquire_async()
        try:
            if self.is_async:
                return await self.raw(payload)
            return await anyio.to_thread.run_sync(self.raw, payload, abandon_on_cancel=True)
        finally:
            if slots is not None:
                slots.release()


def check_name(name: str) -> str:
    """Return ``name`` if it can be a capability name, else raise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name == OTHER:
        raise CapabilityError(
            f"Capability name {name!r} is invalid: use 1 to 63 letters, digits, "
            f"'_', '.' or '-', starting with a letter or digit, and not {OTHER!r} "
            "(the label of requests no route matched)."
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


def _measured(
    function: Callable[..., Any],
    is_async: bool,
    metrics: AgentMetrics,
    recorder: CallRecorder,
    slots: Slots | None,
) -> Callable[..., Any]:
    """``function``, recording each call; it stays sync or async as it was.

    The wrapper returns what the function returns and raises what it raises.
    """
    start, record = metrics.start, recorder.record

    if not is_async and slots is None:

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

    if not is_async:
        assert slots is not None

        @functools.wraps(function)
        def limited(*args: Any, **kwargs: Any) -> Any:
            started = start()
            try:
                slots.acquire()
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

    @functools.wraps(function)
    async def measured_async(*args: Any, **kwargs: Any) -> Any:
        started = start()
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
            record(started, True, type(error).__name__)
            raise
        record(started, False)
        return result

    return measured_async
