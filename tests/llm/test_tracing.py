"""Each LLM call is a span with the GenAI attributes; without tracing, no OpenTelemetry call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import opentelemetry.trace as trace_api
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, FakeUsage

pytestmark = pytest.mark.integration

ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Secret prompt"}]}


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """A tracer provider, configured as set_tracer_provider() would, that keeps its spans."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", provider)
    yield memory
    provider.shutdown()


def own_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    scope = "greenlang_runtime.llm"
    spans = exporter.get_finished_spans()
    return [s for s in spans if s.instrumentation_scope and s.instrumentation_scope.name == scope]


def test_span_has_genai_attributes_and_nests_in_the_current_span(
    runtime: AgentRuntime, fake: FakeLLMServer, exporter: InMemorySpanExporter
) -> None:
    """A stream's span is a child of the caller's span, with usage but no text."""
    fake.usage = FakeUsage(
        input_tokens=700, output_tokens=500, cache_read_tokens=200, cache_write_5m_tokens=100
    )
    sdk = runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="test"))
    tracer = trace_api.get_tracer_provider().get_tracer("test")
    with sdk, tracer.start_as_current_span("handler") as parent:
        list(sdk.messages.create(model="claude-sonnet-4-5", stream=True, **ASK))
    (span,) = own_spans(exporter)
    assert span.name == "chat claude-sonnet-4-5"
    assert span.parent is not None
    assert span.parent.span_id == parent.get_span_context().span_id
    assert dict(span.attributes or {}) == {
        "gen_ai.provider.name": "anthropic",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 700 + 200 + 100,  # all input, cached included
        "gen_ai.usage.output_tokens": 500,
        "gen_ai.usage.cache_read.input_tokens": 200,
        "gen_ai.usage.cache_creation.input_tokens": 100,
    }


def test_failed_call_span_records_the_error_class(
    runtime: AgentRuntime, fake: FakeLLMServer, exporter: InMemorySpanExporter
) -> None:
    """A 429 ends the span with status ERROR and error.type RateLimitError."""
    fake.fail(429)
    sdk = runtime.instrument(openai.OpenAI(base_url=fake.openai_url, api_key="t", max_retries=0))
    with sdk, pytest.raises(openai.RateLimitError):
        sdk.embeddings.create(model="text-embedding-3-small", input="a")
    (span,) = own_spans(exporter)
    assert span.status.status_code is trace_api.StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "RateLimitError"
    assert (span.attributes or {})["gen_ai.operation.name"] == "embeddings"


def test_without_a_tracer_provider_no_opentelemetry_call_is_made(
    runtime: AgentRuntime, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no provider configured, the call path never asks OpenTelemetry for anything."""
    assert getattr(trace_api, "_TRACER_PROVIDER", None) is None

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the OpenTelemetry API was called")

    monkeypatch.setattr(trace_api, "get_tracer_provider", forbidden)
    monkeypatch.setattr(trace_api, "get_tracer", forbidden)
    monkeypatch.setattr(trace_api, "use_span", forbidden)
    monkeypatch.setattr(trace_api.ProxyTracerProvider, "get_tracer", forbidden)
    sdk = runtime.instrument(openai.OpenAI(base_url=fake.openai_url, api_key="t"))
    with sdk:
        list(
            sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
        )


def test_a_provider_named_in_the_runtimes_environ_traces_calls(
    make_runtime: Any, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_PYTHON_TRACER_PROVIDER in AgentRuntime(environ=...), not os.environ: spans too."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.delenv("OTEL_PYTHON_TRACER_PROVIDER", raising=False)
    # What the API does for a named provider: load it when first asked for one.
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace_api, "get_tracer_provider", lambda: provider)
    runtime = make_runtime(environ={"OTEL_PYTHON_TRACER_PROVIDER": "sdk_tracer_provider"})
    with runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="t")) as sdk:
        sdk.messages.create(model="claude-sonnet-4-5", **ASK)
    provider.shutdown()
    assert [span.name for span in own_spans(memory)] == ["chat claude-sonnet-4-5"]


def test_a_provider_named_only_in_os_environ_is_not_the_runtimes(
    make_runtime: Any, fake: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runtime whose environ names no provider never asks the API for one on a call."""
    monkeypatch.setenv("OTEL_PYTHON_TRACER_PROVIDER", "sdk_tracer_provider")
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", None)

    def forbidden() -> None:
        raise AssertionError("the OpenTelemetry API was asked for a provider")

    monkeypatch.setattr(trace_api, "get_tracer_provider", forbidden)
    runtime = make_runtime(environ={})
    with runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="t")) as sdk:
        sdk.messages.create(model="claude-sonnet-4-5", **ASK)
