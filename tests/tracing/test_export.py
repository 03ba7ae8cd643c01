"""A served agent exports its spans over OTLP/HTTP, with the trace carried end to end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import httpx2
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from greenlang_runtime import AgentRuntime
from greenlang_runtime._types import Receive, Scope, Send
from greenlang_runtime.testing import FakeLLMServer
from tests.helpers import ServedAgent

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"


class OtlpReceiver:
    """A local OTLP/HTTP traces endpoint that decodes each export with opentelemetry-proto."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                export = ExportTraceServiceRequest()
                export.ParseFromString(body)
                receiver.paths.append(self.path)
                receiver.exports.append(export)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def spans(self) -> list[tuple[dict[str, str], Span]]:
        """Every span received, with the string attributes of its resource."""
        found: list[tuple[dict[str, str], Span]] = []
        for export in self.exports:
            for resource_spans in export.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found.extend((resource, span) for span in scope_spans.spans)
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HeaderRecordingLLM(FakeLLMServer):
    """The fake LLM server, also keeping the headers of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await super().__call__(scope, receive, send)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver on a free port."""
    running = OtlpReceiver()
    yield running
    running.close()


@pytest.fixture
def llm() -> Iterator[HeaderRecordingLLM]:
    """A fake Anthropic server that records request headers."""
    server = HeaderRecordingLLM()
    with server:
        yield server


AGENT = """
    import anthropic
    import openai
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()
    claude = runtime.instrument(anthropic.AsyncAnthropic(base_url="{url}", api_key="test-key"))
    gpt = runtime.instrument(openai.AsyncOpenAI(base_url="{url}/v1", api_key="test-key"))

    @runtime.capability
    async def summarise(payload):
        ask = [{{"role": "user", "content": payload["text"]}}]
        await claude.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=ask)
        await gpt.chat.completions.create(model="gpt-4o-mini", messages=ask)
        return {{"done": True}}
"""


def test_trace_runs_from_the_caller_through_the_call_to_the_llm_and_is_flushed_at_sigterm(
    serve_agent: Callable[..., ServedAgent], receiver: OtlpReceiver, llm: HeaderRecordingLLM
) -> None:
    """One trace id from traceparent to the LLM request; spans exported by the SIGTERM flush."""
    env = {
        "AGENT_ID": "gl-summariser",
        "AGENT_VERSION": "1.4.0",
        "TENANT_ID": "customer-abc-123",
        "ENVIRONMENT": "staging",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        # Nothing leaves on the batch timer: only the shutdown flush can send these spans.
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
        "GL_PRESTOP_DELAY_SECONDS": "0",
    }
    agent = serve_agent(AGENT.format(url=llm.url), env)
    agent.wait_until("/health/startup")
    traceparent = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"
    response = httpx2.post(
        agent.url + "/v1/capabilities/summarise",
        json={"text": "Summarise the CBAM filing."},
        headers={"traceparent": traceparent, "baggage": "tenant.tier=gold"},
    )
    assert response.status_code == 200
    assert receiver.exports == []  # still queued in the agent
    status, log = agent.stop()
    assert status == 0, log
    assert set(receiver.paths) == {"/v1/traces"}
    spans = {span.name: (resource, span) for resource, span in receiver.spans()}
    assert sorted(spans) == [
        "POST /v1/capabilities/{name}",
        "anthropic.messages.create",  # the anthropic SDK's own span
        "capability summarise",
        "chat claude-sonnet-4-5",
        "chat gpt-4o-mini",
    ]
    resource, server = spans["POST /v1/capabilities/{name}"]
    (_, call), (_, claude), (_, sdk), (_, gpt) = (
        spans[name]
        for name in (
            "capability summarise",
            "chat claude-sonnet-4-5",
            "anthropic.messages.create",
            "chat gpt-4o-mini",
        )
    )
    assert {span.trace_id.hex() for span in (server, call, claude, sdk, gpt)} == {TRACE_ID}
    assert server.parent_span_id.hex() == CALLER_SPAN_ID
    assert server.kind == Span.SPAN_KIND_SERVER
    assert call.parent_span_id == server.span_id
    assert claude.parent_span_id == gpt.parent_span_id == call.span_id
    assert sdk.parent_span_id == claude.span_id
    # Each provider sees its caller's span as parent, and the caller's baggage.
    sent_to_claude, sent_to_gpt = llm.headers
    assert sent_to_claude["traceparent"] == f"00-{TRACE_ID}-{sdk.span_id.hex()}-01"
    assert sent_to_gpt["traceparent"] == f"00-{TRACE_ID}-{gpt.span_id.hex()}-01"
    assert sent_to_gpt["baggage"] == "tenant.tier=gold"
    assert {k: v for k, v in resource.items() if not k.startswith("telemetry.")} == {
        "service.name": "gl-summariser",
        "service.version": "1.4.0",
        "deployment.environment.name": "staging",
        "greenlang.agent_id": "gl-summariser",
        "greenlang.tenant_id": "customer-abc-123",
    }


def test_a_collector_that_never_answers_does_not_hold_the_exit(
    serve_agent: Callable[..., ServedAgent], black_hole: Any
) -> None:
    """Spans to a collector that accepts and never answers are dropped at exit, status 0."""
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{black_hole.port}",
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
        "GL_PRESTOP_DELAY_SECONDS": "0",
    }
    agent = serve_agent(
        """
        from greenlang_runtime import AgentRuntime

        runtime = AgentRuntime()

        @runtime.capability
        async def echo(payload):
            return payload
        """,
        env,
    )
    agent.wait_until("/health/startup")
    assert httpx2.post(agent.url + "/v1/capabilities/echo", json={}).status_code == 200
    status, log = agent.stop(timeout=20)  # a bound on a hang
    assert status == 0, log
    assert "spans were not all exported within 1 s at shutdown" in log


@pytest.mark.parametrize(
    ("option", "parent"),
    [
        (False, "chat claude-haiku-4-5"),  # the SDK's tracing off: the runtime propagates
        (None, "anthropic.messages.create"),  # on: the SDK propagates its own span
        ({"propagation": False}, None),  # its user turned propagation off
    ],
)
def test_anthropic_requests_name_the_innermost_span_or_none_when_turned_off(
    make_runtime: Callable[..., AgentRuntime],
    span_exporter: InMemorySpanExporter,
    llm: HeaderRecordingLLM,
    option: Any,
    parent: str | None,
) -> None:
    """Whatever the anthropic client's own tracing option, its request names the right parent."""
    runtime = make_runtime()
    client = runtime.instrument(
        anthropic.Anthropic(base_url=llm.url, api_key="test-key", open_telemetry=option)
    )

    @runtime.capability
    def ask(payload: dict[str, Any]) -> None:
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        )

    with client:
        ask({})
    (sent,) = llm.headers
    spans = {span.name: span for span in span_exporter.get_finished_spans()}
    if parent is None:
        assert "traceparent" not in sent
    else:
        span = spans[parent]
        trace_id, span_id = (
            format(span.context.trace_id, "032x"),
            format(span.context.span_id, "016x"),
        )
        version, sent_trace, sent_parent, flags = sent["traceparent"].split("-")
        assert (version, sent_trace, sent_parent) == ("00", trace_id, span_id)
        assert int(flags, 16) & 1 == 1  # sampled


def test_without_tracing_a_served_agent_never_loads_opentelemetry(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """Tracing off: requests, calls and logs run without OpenTelemetry even imported."""
    agent = serve_agent(
        """
        import sys
        from greenlang_runtime import AgentRuntime

        runtime = AgentRuntime()

        @runtime.capability
        def loaded(payload):
            return sorted(m for m in sys.modules if m.startswith("opentelemetry"))
        """,
        {"GL_ACCESS_LOG": "true"},
    )
    agent.wait_until("/health/startup")
    response = httpx2.post(agent.url + "/v1/capabilities/loaded", json={})
    assert (response.status_code, response.json()) == (200, [])
    status, log = agent.stop()
    assert status == 0
    assert "POST /v1/capabilities/loaded" in log  # the access log ran too
