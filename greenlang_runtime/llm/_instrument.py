"""Instrumenting a client: every API call passes through its ``request`` method.

Both clients send each call (``create``, ``stream``, ``parse``, the
``with_raw_response`` and ``with_streaming_response`` forms) through one
``request(cast_to, options, stream=..., stream_cls=...)`` method, retries
included. Replacing it on the client object counts each call once, with its
retries, whatever form the caller used; paths that are not LLM calls
(``count_tokens``, models, files) pass through untouched. Removing it again
(:func:`uninstrument`) leaves the client as it was.

What a provider does differently (its routes, how it reads usage, asking a
stream for its usage) is in its route table (:class:`~._call.Route`); the
sync and async wrappers share :class:`_Wrapper`'s steps and differ only
where they await.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from greenlang_runtime.llm._call import Call, Route
from greenlang_runtime.llm._calls import LLMCallLog
from greenlang_runtime.llm._providers import provider_of
from greenlang_runtime.llm._streams import follow, follow_async
from greenlang_runtime.llm._tracing import use_span, with_trace_context

if TYPE_CHECKING:
    from greenlang_runtime.llm.budget import Hold

__all__ = ["instrument", "uninstrument"]

_C = TypeVar("_C")
_MARK = "_greenlang_runtime_llm"
# What instrument() sets on the client object, and uninstrument() takes away.
_REPLACED = ("request", "copy", "with_options")
# Entered around an untraced call: one shared object, nothing made per call.
# The span is made current while the request is sent, so that the client's own
# spans nest in it and the request carries its trace context.
_NO_SPAN: AbstractContextManager[Any] = nullcontext()


def instrument(client: _C, log: LLMCallLog) -> _C:
    """Count ``client``'s LLM calls in ``log``; return ``client`` itself (idempotent)."""
    module = provider_of(client, "instrument")
    state = client.__dict__
    if state.get(_MARK) is not None:
        return client
    cls_request = type(client).request  # type: ignore[attr-defined]
    ref = weakref.ref(client)
    wrapper = _Wrapper(cls_request, ref, log, module.PROVIDER, module.ROUTES, module.stream_types())
    is_async = inspect.iscoroutinefunction(cls_request)
    state["request"] = wrapper.request_async if is_async else wrapper.request
    for name in _REPLACED[1:]:
        if hasattr(type(client), name):
            state[name] = _instrumenting(getattr(type(client), name), ref, log)
    state[_MARK] = log
    return client


def uninstrument(client: _C) -> _C:
    """Undo :func:`instrument` on ``client``; return it (idempotent).

    Its calls are no longer counted, and copies made from it from now on
    are plain. Copies made while it was instrumented stay instrumented.
    """
    provider_of(client, "uninstrument")
    state = client.__dict__
    if state.pop(_MARK, None) is not None:
        for name in _REPLACED:
            state.pop(name, None)
    return client


def _instrumenting(method: Callable[..., Any], ref: Any, log: LLMCallLog) -> Callable[..., Any]:
    """``client.copy`` / ``with_options``, whose copies are instrumented too."""

    def copy(*args: Any, **kwargs: Any) -> Any:
        return instrument(method(ref(), *args, **kwargs), log)

    return copy


def _model(options: Any) -> str:
    body = options.json_data
    model = body.get("model") if isinstance(body, Mapping) else None
    return model if isinstance(model, str) and model else "unknown"


def _extra(options: Any) -> Any:
    """The ``extra_body`` the client merges into the request body."""
    return getattr(options, "extra_json", None)


class _Wrapper:
    """One client's replacement ``request``: its steps, shared by the sync and async forms.

    Args:
        cls_request: the client class's own ``request``.
        ref: a weak reference to the client (the client holds the wrapper).
        log: where calls are recorded.
        provider: the provider's name (``gen_ai.provider.name``).
        routes: API path -> what the call is and how to read it.
        stream_types: the client's stream classes.
    """

    __slots__ = ("cls_request", "log", "provider", "ref", "routes", "stream_types")

    def __init__(
        self,
        cls_request: Callable[..., Any],
        ref: Any,
        log: LLMCallLog,
        provider: str,
        routes: Mapping[str, Route],
        stream_types: tuple[type, ...],
    ) -> None:
        self.cls_request = cls_request
        self.ref = ref
        self.log = log
        self.provider = provider
        self.routes = routes
        self.stream_types = stream_types

    def begin(
        self, route: Route, model: str, options: Any, stream: bool, hold: Hold | None
    ) -> tuple[Call, Any]:
        """Start the call: the call, and the options to send it with."""
        call = self.log.start(self.provider, route, model, hold)
        if stream and route.prepare_stream is not None:
            options = route.prepare_stream(options, call)
        return call, options

    def request(
        self, cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        """The sync client's ``request``: reserve, send, follow the result."""
        route = self.routes.get(options.url)
        if route is None:
            return self.cls_request(
                self.ref(), cast_to, options, stream=stream, stream_cls=stream_cls
            )
        model, guard, hold = _model(options), self.log.guard, None
        if guard is not None:  # raises LLMBudgetExceeded before anything is sent
            hold = guard.reserve(
                self.provider, options.url, model, options.json_data, _extra(options)
            )
        call, options = self.begin(route, model, options, stream, hold)
        try:
            span = call.span
            # Untraced: one shared no-op context, no method call (the usual case).
            with _NO_SPAN if span is None else use_span(span):
                result = self.cls_request(
                    self.ref(),
                    cast_to,
                    options if span is None else with_trace_context(self.ref(), options),
                    stream=stream,
                    stream_cls=stream_cls,
                )
        except BaseException as error:
            call.finish(error)
            raise
        follow(result, call, stream, self.stream_types)
        return result

    async def request_async(
        self, cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        """The async client's ``request``: the same steps, awaiting the reservation and the send."""
        route = self.routes.get(options.url)
        if route is None:
            return await self.cls_request(
                self.ref(), cast_to, options, stream=stream, stream_cls=stream_cls
            )
        model, guard, hold = _model(options), self.log.guard, None
        if guard is not None:  # raises LLMBudgetExceeded before anything is sent
            hold = await guard.reserve_async(
                self.provider, options.url, model, options.json_data, _extra(options)
            )
        call, options = self.begin(route, model, options, stream, hold)
        try:
            span = call.span
            with _NO_SPAN if span is None else use_span(span):
                result = await self.cls_request(
                    self.ref(),
                    cast_to,
                    options if span is None else with_trace_context(self.ref(), options),
                    stream=stream,
                    stream_cls=stream_cls,
                )
        except BaseException as error:
            call.finish(error)
            raise
        await follow_async(result, call, stream, self.stream_types)
        return result
