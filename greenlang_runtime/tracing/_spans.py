"""The runtime's spans: a server span per request, one per capability call, failed checks.

Imported only once tracing is on: everything here calls the OpenTelemetry
API, which costs about 11 µs a span even without an SDK.
"""

from __future__ import annotations

import time
from contextvars import Token
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.trace import (
    INVALID_SPAN,
    Span,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    get_current_span,
    set_span_in_context,
)

from greenlang_runtime._redact import redact_text
from greenlang_runtime._types import Scope

__all__ = ["CapabilitySpans", "ServerSpan", "ServerSpans", "check_failed", "sampled_trace_id"]

_MAX_PATH_CHARS: Final = 2048
# The request headers that carry trace context in (W3C trace context and baggage).
_CONTEXT_HEADERS: Final = frozenset((b"traceparent", b"tracestate", b"baggage"))

# A request's span and the context token that made it current.
ServerSpan = tuple[Span, "Token[Context]"]


class CapabilitySpans:
    """A :class:`~greenlang_runtime.capabilities.CallObserver`: a span per capability call.

    The span is made current for the call (``begin`` and ``end`` run in the
    caller's context), so spans started inside it, LLM calls included, are
    its children; over HTTP it is a child of the request's server span.
    """

    __slots__ = ("_names", "_tracer")

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        # Per capability, built once: its span name and attributes (the SDK copies them).
        self._names: dict[str, tuple[str, dict[str, str]]] = {}

    def begin(self, capability: str, payload: Any) -> object:
        """Start the call's span and make it current."""
        named = self._names.get(capability)
        if named is None:
            named = self._names[capability] = (
                f"capability {capability}",
                {"greenlang.capability": capability},
            )
        span = self._tracer.start_span(named[0], kind=SpanKind.INTERNAL, attributes=named[1])
        return span, otel_context.attach(set_span_in_context(span))

    def end(self, token: object, outcome: str, error: BaseException | None) -> None:
        """Restore the caller's context and end the span with the call's outcome."""
        span: Span
        attached: Token[Context]
        span, attached = token  # type: ignore[misc]
        otel_context.detach(attached)
        if span.is_recording():
            span.set_attribute("greenlang.outcome", outcome)
            if error is not None:
                span.set_attribute("error.type", type(error).__name__)
            if outcome == "error":
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()


class ServerSpans:
    """A server span per HTTP request, a child of the caller's ``traceparent`` when sent.

    Named by the route template (``POST /v1/capabilities/{name}``, or the
    author's Starlette route), never by the raw path; by the method alone
    when no route matched. The app wraps each of its routes once, with the
    route's template, and calls :meth:`begin` and :meth:`end` around each
    request (``greenlang_runtime.serving._traced``).
    """

    __slots__ = ("_tracer",)

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def begin(self, scope: Scope, template: str | None) -> ServerSpan:
        """Start the request's span and make it current.

        Args:
            template: the route's template; ``None`` for the author's app,
                whose router leaves its route in the scope (read at :meth:`end`).
        """
        method: str = scope["method"]
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _CONTEXT_HEADERS
        }
        parent = propagate.extract(carrier) if carrier else otel_context.Context()
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            # Text from outside: masked (a token in a path), then bounded.
            "url.path": redact_text(scope["path"], limit=_MAX_PATH_CHARS),
            "url.scheme": scope.get("scheme", "http"),
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        if template is not None:
            attributes["http.route"] = template
        span = self._tracer.start_span(
            method if template is None else f"{method} {template}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
        )
        return span, otel_context.attach(set_span_in_context(span, parent))

    def end(
        self,
        begun: ServerSpan,
        scope: Scope,
        template: str | None,
        status: int,
        error: BaseException | None,
    ) -> None:
        """Restore the caller's context and end the span with the answer's status.

        Args:
            status: the response's status (500 when none started).
            error: what the route raised, if anything.
        """
        span, attached = begun
        if error is not None:
            span.set_attribute("error.type", type(error).__name__)
        otel_context.detach(attached)
        if template is None:
            template = getattr(scope.get("route"), "path", None)
            if template is not None:
                span.update_name(f"{scope['method']} {template}")
                span.set_attribute("http.route", template)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", str(status))
        span.end()


def check_failed(
    tracer: Tracer, dependency: str, seconds: float, error_type: str, reason: str
) -> None:
    """Record a failed dependency check, which took ``seconds`` and ended now, as a span.

    Args:
        error_type: the class of what the check raised (``TimeoutError``, ...).
        reason: the failure as probes show it, secrets already masked.
    """
    ended = time.time_ns()
    span = tracer.start_span(
        f"check {dependency}",
        context=otel_context.Context(),  # a background task: a trace of its own
        kind=SpanKind.CLIENT,
        attributes={"greenlang.dependency": dependency, "error.type": error_type},
        start_time=ended - int(seconds * 1e9),
    )
    span.set_status(Status(StatusCode.ERROR, reason))
    span.end(end_time=ended)


def sampled_trace_id() -> str | None:
    """The current trace's id in hex when it is sampled (for exemplars), else ``None``."""
    span = get_current_span()
    if span is INVALID_SPAN:
        return None
    context = span.get_span_context()
    if not context.trace_flags.sampled:
        return None
    return format(context.trace_id, "032x")
