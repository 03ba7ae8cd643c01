"""Instrumenting a client: every API call passes through its ``request`` method.

Both clients send each call (``create``, ``stream``, ``parse``, the
``with_raw_response`` and ``with_streaming_response`` forms) through one
``request(cast_to, options, stream=..., stream_cls=...)`` method, retries
included. Replacing it on the client object counts each call once, with its
retries, whatever form the caller used; paths that are not LLM calls
(``count_tokens``, models, files) pass through untouched.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, TypeVar

from greenlang_runtime.llm._calls import Recorder, Route
from greenlang_runtime.llm._streams import follow, follow_async
from greenlang_runtime.llm._tracing import use_span, with_trace_context

__all__ = ["instrument"]

_C = TypeVar("_C")
_MARK = "_greenlang_runtime_llm"


def _provider_module(client: object) -> ModuleType:
    """The provider module of ``client`` (by the package its class comes from)."""
    for cls in type(client).__mro__:
        package = cls.__module__.split(".", 1)[0]
        if package == "anthropic":
            import greenlang_runtime.llm.anthropic as anthropic_calls

            return anthropic_calls
        if package == "openai":
            import greenlang_runtime.llm.openai as openai_calls

            return openai_calls
    raise TypeError(
        f"runtime.instrument() takes an anthropic or openai client, not {type(client).__name__}"
    )


def instrument(client: _C, recorder: Recorder) -> _C:
    """Count ``client``'s LLM calls in ``recorder``; return ``client`` itself (idempotent)."""
    state = client.__dict__
    if state.get(_MARK) is not None:
        return client
    module = _provider_module(client)
    cls_request = type(client).request  # type: ignore[attr-defined]
    ref = weakref.ref(client)
    make = _async_request if inspect.iscoroutinefunction(cls_request) else _sync_request
    state["request"] = make(
        cls_request, ref, recorder, module.PROVIDER, module.ROUTES, module.stream_types()
    )
    for name in ("copy", "with_options"):
        if hasattr(type(client), name):
            state[name] = _instrumenting(getattr(type(client), name), ref, recorder)
    state[_MARK] = recorder
    return client


def _instrumenting(method: Callable[..., Any], ref: Any, recorder: Recorder) -> Callable[..., Any]:
    """``client.copy`` / ``with_options``, whose copies are instrumented too."""

    def copy(*args: Any, **kwargs: Any) -> Any:
        return instrument(method(ref(), *args, **kwargs), recorder)

    return copy


def _model(options: Any) -> str:
    body = options.json_data
    model = body.get("model") if isinstance(body, Mapping) else None
    return model if isinstance(model, str) and model else "unknown"


def _extra(options: Any) -> Any:
    """The ``extra_body`` the client merges into the request body."""
    return getattr(options, "extra_json", None)


def _sync_request(
    cls_request: Callable[..., Any],
    ref: Any,
    recorder: Recorder,
    provider: str,
    routes: Mapping[str, Route],
    stream_types: tuple[type, ...],
) -> Callable[..., Any]:
    def request(cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None) -> Any:
        route = routes.get(options.url)
        if route is None:
            return cls_request(ref(), cast_to, options, stream=stream, stream_cls=stream_cls)
        model, guard = _model(options), recorder.guard
        hold = None
        if guard is not None:  # raises LLMBudgetExceeded before anything is sent
            hold = guard.reserve(provider, options.url, model, options.json_data, _extra(options))
        call = recorder.start(provider, route, model, hold)
        if stream and route.include_usage:
            from greenlang_runtime.llm.openai import with_usage

            options = with_usage(options, call)
        try:
            if call.span is None:
                result = cls_request(ref(), cast_to, options, stream=stream, stream_cls=stream_cls)
            else:
                with use_span(call.span):
                    result = cls_request(
                        ref(),
                        cast_to,
                        with_trace_context(ref(), options),
                        stream=stream,
                        stream_cls=stream_cls,
                    )
        except BaseException as error:
            call.finish(error)
            raise
        follow(result, call, stream, stream_types)
        return result

    return request


def _async_request(
    cls_request: Callable[..., Any],
    ref: Any,
    recorder: Recorder,
    provider: str,
    routes: Mapping[str, Route],
    stream_types: tuple[type, ...],
) -> Callable[..., Any]:
    async def request(
        cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        route = routes.get(options.url)
        if route is None:
            return await cls_request(ref(), cast_to, options, stream=stream, stream_cls=stream_cls)
        model, guard = _model(options), recorder.guard
        hold = None
        if guard is not None:  # raises LLMBudgetExceeded before anything is sent
            hold = await guard.reserve_async(
                provider, options.url, model, options.json_data, _extra(options)
            )
        call = recorder.start(provider, route, model, hold)
        if stream and route.include_usage:
            from greenlang_runtime.llm.openai import with_usage

            options = with_usage(options, call)
        try:
            if call.span is None:
                result = await cls_request(
                    ref(), cast_to, options, stream=stream, stream_cls=stream_cls
                )
            else:
                with use_span(call.span):
                    result = await cls_request(
                        ref(),
                        cast_to,
                        with_trace_context(ref(), options),
                        stream=stream,
                        stream_cls=stream_cls,
                    )
        except BaseException as error:
            call.finish(error)
            raise
        await follow_async(result, call, stream, stream_types)
        return result

    return request
