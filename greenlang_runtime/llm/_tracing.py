"""An OpenTelemetry span per LLM call, with the GenAI semantic-convention attributes.

Starting a span through the API costs about 11 µs even with no SDK
configured, so while no tracer provider has been set the call path does
not touch the OpenTelemetry API at all: it reads one module attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from greenlang_runtime.tracing import PROVIDER_VARIABLE, application_provider

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from greenlang_runtime.llm._usage import Usage

__all__ = ["CallSpans", "end_span", "use_span", "with_trace_context"]

_SCOPE = "greenlang_runtime.llm"


class CallSpans:
    """Starts each call's span with the tracer provider the application set up.

    Args:
        environ: the runtime's environment (whether it names a provider in
            ``OTEL_PYTHON_TRACER_PROVIDER``), never ``os.environ`` behind its back.
    """

    __slots__ = ("_named", "_tracer_of")

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._named = PROVIDER_VARIABLE in environ
        self._tracer_of: tuple[Any, Tracer] | None = None

    def _tracer(self) -> Tracer | None:
        """The tracer of the configured provider, or ``None`` when none is configured."""
        provider = application_provider(self._named)
        if provider is None:
            return None
        # Keyed by the provider itself, not its id(): a new provider may reuse a
        # dropped one's id, and must not get the dropped one's tracer.
        cached = self._tracer_of
        if cached is not None and cached[0] is provider:
            return cached[1]
        tracer: Tracer = provider.get_tracer(_SCOPE)
        self._tracer_of = (provider, tracer)
        return tracer

    def start(self, provider: str, operation: str, model: str) -> Span | None:
        """Start the span of a call (a child of the current span), or ``None`` without tracing."""
        # On every call: without tracing, one function call that finds nothing.
        if application_provider(self._named) is None:
            return None
        tracer = self._tracer()
        if tracer is None:
            return None
        from opentelemetry.trace import SpanKind

        return tracer.start_span(
            f"{operation} {model}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.provider.name": provider,
                "gen_ai.operation.name": operation,
                "gen_ai.request.model": model,
            },
        )


def use_span(span: Span) -> Any:
    """Make ``span`` current while the request is sent (the client's own spans nest in it)."""
    from opentelemetry.trace import use_span as use

    return use(span, end_on_exit=False, record_exception=False)


def with_trace_context(client: object, options: Any) -> Any:
    """``options`` plus the ``traceparent``, ``tracestate`` and ``baggage`` of the current context.

    Call it with the call's span current. The clients send with httpx2, which
    no instrumentation propagates for, so the provider sees the trace here.
    A client with OpenTelemetry support of its own (anthropic's) is left to
    send its own span's context (nested in this one) while its tracing is on,
    and sends none when its user turned its propagation off.
    """
    own = getattr(client, "_open_telemetry", None)
    if isinstance(own, Mapping) and (
        not own.get("propagation", True) or getattr(client, "_tracer", None) is not None
    ):
        return options
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    if not carrier:
        return options
    headers = options.headers
    copied = options.model_copy()
    copied.headers = {**(headers if isinstance(headers, Mapping) else {}), **carrier}
    return copied


def end_span(span: Span, model: str | None, usage: Usage, error: BaseException | None) -> None:
    """Set the response attributes (no prompt or completion text) and end ``span``."""
    if model is not None:
        span.set_attribute("gen_ai.response.model", model)
    # The conventions count cached input in gen_ai.usage.input_tokens.
    span.set_attribute("gen_ai.usage.input_tokens", usage.prompt)
    span.set_attribute("gen_ai.usage.output_tokens", usage.output)
    span.set_attribute("gen_ai.usage.cache_read.input_tokens", usage.cache_read)
    span.set_attribute("gen_ai.usage.cache_creation.input_tokens", usage.cache_write)
    if error is not None:
        span.set_attribute("error.type", type(error).__qualname__)
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, type(error).__qualname__))
    span.end()
