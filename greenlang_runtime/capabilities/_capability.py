"""Capabilities: an author's functions, wrapped so that every call is measured in one place.

A call, direct from Python or over HTTP, starts with :attr:`Capability.begin`
and ends with :attr:`Capability.end` (built in :mod:`._seam`): they record
the metrics and tell the registered :class:`CallObserver` objects (tracing,
LLM accounting), so those hook in once and see every call.
"""

from __future__ import annotations

import inspect
import logging
import math
import re
from collections.abc import Callable
from typing import Any, Final

import anyio.to_thread
from anyio import CapacityLimiter

from greenlang_runtime._offload import encode_in_pieces, in_worker
from greenlang_runtime.capabilities._direct import direct_async, direct_sync
from greenlang_runtime.capabilities._observers import CallObserver, Outcome
from greenlang_runtime.capabilities._seam import seam
from greenlang_runtime.capabilities._slots import Slots
from greenlang_runtime.capabilities._typed import PayloadModels, resolve, to_json
from greenlang_runtime.exceptions import CapabilityError
from greenlang_runtime.metrics import OTHER, AgentMetrics

__all__ = [
    "SYNC_THREADS",
    "CallObserver",
    "Capability",
    "Outcome",
    "ResultNotJson",
]

logger = logging.getLogger("greenlang_runtime")

# Worker threads a sync capability without max_concurrency may hold at once
# when served over HTTP; each capability has its own, so none starves another.
SYNC_THREADS: Final = 40

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class ResultNotJson(Exception):
    """A capability returned a value JSON cannot hold (the encoder's error is the cause)."""


class Capability:
    """A declared capability: the author's function, its limits, its measurement.

    Args:
        function: the author's function, sync or async, taking the payload.
        name: the name in ``/v1/capabilities/{name}`` and the ``capability`` label.
        description: shown by ``GET /v1/capabilities``.
        max_concurrency: calls allowed at once; ``None`` means unlimited.
        metrics: where calls are recorded.
        observers: told of every call; the list is read at each call, so
            observers added later see later calls.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        name: str,
        description: str,
        max_concurrency: int | None,
        metrics: AgentMetrics,
        observers: list[CallObserver] | None = None,
    ) -> None:
        check_name(name)
        check_max_concurrency(name, max_concurrency)
        self.raw = function
        self.name = name
        self.description = description
        self.is_async = inspect.iscoroutinefunction(function)
        self.max_concurrency = max_concurrency
        self.slots = None if max_concurrency is None else Slots(max_concurrency, metrics)
        # Over HTTP a sync function runs in a worker thread: bound per capability.
        self.thread_slots = self.slots
        if not self.is_async and self.slots is None:
            self.thread_slots = Slots(SYNC_THREADS, metrics)
        self.stats = metrics.stats(name)
        self.observers: list[CallObserver] = [] if observers is None else observers
        self._models: PayloadModels | None = None
        # Every call, direct or over HTTP, runs begin(payload) -> begun and
        # end(begun, error): the one place it is measured (see _seam).
        self.begin, self.end = seam(name, self.observers, self.stats)
        direct = direct_async if self.is_async else direct_sync
        self.function = direct(function, self.begin, self.end, self.slots)

    @property
    def models(self) -> PayloadModels:
        """The pydantic models in the function's annotations, resolved at first use."""
        models = self._models
        if models is None:
            models = self._models = resolve(self.name, self.raw)
        return models

    async def invoke(self, payload: Any, encode_in_thread: bool = False) -> bytes:
        """The HTTP path: validate, call, and return the result as JSON, all measured.

        With ``encode_in_thread`` (the request body was large) the result is
        encoded in a worker thread, a slice at a time, so the event loop runs
        between slices.

        Raises :class:`~greenlang_runtime.InvalidInput` (the payload does not
        match the function's model, or the function raised it),
        :class:`ResultNotJson`, or whatever the function raised. Waits for a
        slot on the event loop, not in a worker thread, so queued calls hold
        no thread; a sync function then runs in a worker thread.
        """
        begun = self.begin(payload)
        try:
            models = self.models
            argument = payload if models.input_model is None else models.validate(payload)
            slots = self.thread_slots
            if slots is not None:
                await slots.acquire_async()
            try:
                if self.is_async:
                    result = await self.raw(argument)
                else:
                    result = await anyio.to_thread.run_sync(
                        self.raw, argument, abandon_on_cancel=True, limiter=_threads()
                    )
            finally:
                if slots is not None:
                    slots.release()
        except BaseException as error:
            self.end(begun, error)
            raise
        try:
            if encode_in_thread:
                body = await in_worker(encode_in_pieces, to_json, result)
            else:
                body = to_json(result)
        except (TypeError, ValueError, RecursionError) as error:
            self.end(begun, error)
            raise ResultNotJson(
                f"The capability {self.name!r} returned a {type(result).__name__} that is not JSON."
            ) from error
        self.end(begun, None)
        return body

    def listing(self) -> dict[str, Any]:
        """This capability's entry in ``GET /v1/capabilities``."""
        return {"name": self.name, "description": self.description, **self.models.json_schemas()}


_unbounded: CapacityLimiter | None = None


def _threads() -> CapacityLimiter:
    """One limiter that never makes a call wait: the bounds are each capability's own slots.

    Without it, anyio would share one limit of 40 threads among all
    capabilities, and one slow capability could hold them all.
    """
    global _unbounded
    if _unbounded is None:
        _unbounded = CapacityLimiter(math.inf)
    return _unbounded


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
