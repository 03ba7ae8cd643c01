"""What a call returns, followed to its end: parsed objects, streams and raw responses.

The caller keeps the very objects the client returns. A stream's chunk
iterator is swapped for one that reads usage as chunks pass (no buffering)
and its ``close`` is hooked, so a stream read to its end, closed, cancelled
or dropped is recorded exactly once. A raw response (``with_raw_response``,
``with_streaming_response``) gets its ``parse`` hooked the same way.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from greenlang_runtime.llm._call import Call, abandoned

__all__ = ["AsyncEvents", "SyncEvents", "follow", "follow_async"]


class _Events:
    """A stream's chunks, passed on one by one while their usage is read."""

    __slots__ = ("_call", "_event", "_inner", "_make")

    def __init__(self, inner: Any, call: Call, make: Callable[[], Any] | None = None) -> None:
        # Either the client's iterator, or how to make it at the first read.
        self._inner = inner
        self._make = make
        self._call = call
        self._event = call.route.event

    def __del__(self) -> None:
        # Dropped unread (garbage collected): record what is known.
        self._call.abandon()


class SyncEvents(_Events):
    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        call, event, inner = self._call, self._event, self._inner
        try:
            if inner is None:
                inner = self._inner = self._make()  # type: ignore[misc]
            while True:
                item = next(inner)
                try:
                    shown = event(call, item)
                except Exception as error:
                    call.unreadable(error)
                    shown = True
                if shown:
                    return item
        except StopIteration:
            call.finish()
            raise
        except BaseException as error:
            if abandoned(error):
                call.abandon()
            else:
                call.finish(error)
            raise


class AsyncEvents(_Events):
    __slots__ = ()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        call, event, inner = self._call, self._event, self._inner
        try:
            if inner is None:
                inner = self._inner = self._make()  # type: ignore[misc]
            while True:
                item = await inner.__anext__()
                try:
                    shown = event(call, item)
                except Exception as error:
                    call.unreadable(error)
                    shown = True
                if shown:
                    return item
        except StopAsyncIteration:
            call.finish()
            raise
        except BaseException as error:
            if abandoned(error):
                call.abandon()
            else:
                call.finish(error)
            raise


def _watch_stream(stream: Any, call: Call) -> None:
    """Swap ``stream``'s chunk iterator and hook its ``close`` (once per stream)."""
    state = stream.__dict__
    inner = state.get("_iterator")
    if isinstance(inner, _Events):
        return
    cls = type(stream)
    wrapper = AsyncEvents if hasattr(cls, "__anext__") else SyncEvents
    make = getattr(getattr(cls, "_iterator", None), "func", None)
    if inner is None and make is not None:
        # The client makes its iterator at the first read (a cached property):
        # so do we, holding the stream only weakly as the client does.
        ref = weakref.ref(stream)
        state["_iterator"] = wrapper(None, call, lambda: make(ref()))
    else:
        state["_iterator"] = wrapper(stream._iterator, call)
    state["close"] = _hooked(stream, "close", call.abandon)


_methods: dict[tuple[type, str], tuple[Callable[..., Any], bool]] = {}


def _method(cls: type, name: str) -> tuple[Callable[..., Any], bool]:
    """Method ``name`` of ``cls`` and whether it is async, looked up once per class."""
    method = getattr(cls, name)
    found = _methods[(cls, name)] = (method, inspect.iscoroutinefunction(method))
    return found


def _hooked(owner: Any, name: str, before: Callable[[], None]) -> Callable[..., Any]:
    """``owner``'s method ``name`` running ``before`` first; holds ``owner`` only weakly."""
    method, is_async = _methods.get((type(owner), name)) or _method(type(owner), name)
    ref = weakref.ref(owner)
    if is_async:

        async def hooked_async(*args: Any, **kwargs: Any) -> Any:
            before()
            return await method(ref(), *args, **kwargs)

        return hooked_async

    def hooked(*args: Any, **kwargs: Any) -> Any:
        before()
        return method(ref(), *args, **kwargs)

    return hooked


class _Pending:
    """A raw response's call until ``parse`` gives its object or stream; records if dropped."""

    __slots__ = ("armed", "call", "stream_types")

    def __init__(self, call: Call, stream_types: tuple[type, ...]) -> None:
        self.call = call
        self.stream_types = stream_types
        self.armed = True

    def take(self, value: Any) -> None:
        call = self.call
        if call.done:
            return
        if isinstance(value, self.stream_types):
            self.armed = False
            _watch_stream(value, call)
        else:
            call.observe(value)
            call.finish()

    def __del__(self) -> None:
        if self.armed:
            self.call.abandon()


def _hook_parse(response: Any, call: Call, stream_types: tuple[type, ...]) -> None:
    """Hook ``response.parse`` so that what it returns is followed."""
    pending = _Pending(call, stream_types)
    method = type(response).parse
    ref = weakref.ref(response)
    if inspect.iscoroutinefunction(method):

        async def parse_async(*args: Any, **kwargs: Any) -> Any:
            value = await method(ref(), *args, **kwargs)
            pending.take(value)
            return value

        response.__dict__["parse"] = parse_async
    else:

        def parse(*args: Any, **kwargs: Any) -> Any:
            value = method(ref(), *args, **kwargs)
            pending.take(value)
            return value

        response.__dict__["parse"] = parse


_raw_classes: dict[type, bool] = {}


def _is_raw(result: Any) -> bool:
    """Whether ``result`` is a client's raw response wrapper (decided once per class)."""
    cls = type(result)
    raw = _raw_classes.get(cls)
    if raw is None:
        # Not hasattr(result, ...): a pydantic model asked for a missing attribute
        # costs microseconds. The wrappers set http_response on the instance or
        # the class; models have neither.
        state = getattr(result, "__dict__", {})
        raw = "http_response" in state or hasattr(cls, "http_response")
        _raw_classes[cls] = raw
    return raw


def follow(result: Any, call: Call, stream: bool, stream_types: tuple[type, ...]) -> None:
    """Record ``result`` now (a parsed object) or once it ends (streams, raw responses)."""
    raw = _raw_classes.get(type(result))
    if raw is None:
        raw = _is_raw(result)
    if isinstance(result, stream_types):
        _watch_stream(result, call)
    elif raw:
        _hook_parse(result, call, stream_types)
        if not stream and result.http_response.is_closed:
            # The body is in memory: parsing it now costs the caller nothing,
            # as the response keeps the parsed object for its own parse().
            with contextlib.suppress(Exception):
                result.parse()
            call.finish()
    else:
        try:
            call.route.observe(call, result)
        except Exception as error:
            call.unreadable(error)
        call.finish()


async def follow_async(
    result: Any, call: Call, stream: bool, stream_types: tuple[type, ...]
) -> None:
    """:func:`follow` for async clients, whose raw responses may parse asynchronously."""
    if _is_raw(result) and not stream and result.http_response.is_closed:
        _hook_parse(result, call, stream_types)
        # A body that does not parse is the caller's to find: their parse() raises.
        with contextlib.suppress(Exception):
            parsed = result.parse()
            if inspect.isawaitable(parsed):
                await parsed
        call.finish()
    else:
        follow(result, call, stream, stream_types)
