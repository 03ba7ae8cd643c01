"""Spans of requests, capability calls and failed checks, read from an in-memory exporter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import opentelemetry.trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from greenlang_runtime import AgentRuntime, InvalidInput
from greenlang_runtime.testing import RuntimeClient

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"


def by_name(span_exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    return {span.name: span for span in span_exporter.get_finished_spans()}


def hex_id(value: int, digits: int) -> str:
    return format(value, f"0{digits}x")


def current_ids() -> dict[str, str]:
    context = trace_api.get_current_span().get_span_context()
    return {"trace": hex_id(context.trace_id, 32), "span": hex_id(context.span_id, 16)}


def test_request_span_continues_the_callers_trace_and_parents_the_call(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """Over HTTP: a server span from traceparent, a call span current in the worker thread."""
    runtime = make_runtime()

    @runtime.capability
    def where(payload: dict[str, Any]) -> dict[str, str]:
        return current_ids()  # a sync capability: run in a worker thread

    with RuntimeClient(runtime) as client:
        seen = client.post(
            "/v1/capabilities/where", json={}, headers={"traceparent": TRACEPARENT}
        ).json()
    spans = by_name(span_exporter)
    assert sorted(spans) == ["POST /v1/capabilities/{name}", "capability where"]
    server, call = spans["POST /v1/capabilities/{name}"], spans["capability where"]
    assert server.kind is trace_api.SpanKind.SERVER
    assert hex_id(server.context.trace_id, 32) == TRACE_ID
    assert server.parent is not None
    assert hex_id(server.parent.span_id, 16) == CALLER_SPAN_ID
    assert call.parent is not None
    assert call.parent.span_id == server.context.span_id
    assert seen == {"trace": TRACE_ID, "span": hex_id(call.context.span_id, 16)}
    assert dict(server.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "/v1/capabilities/{name}",
        "url.path": "/v1/capabilities/where",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
    }
    assert dict(call.attributes or {}) == {
        "greenlang.capability": "where",
        "greenlang.outcome": "success",
    }


def test_direct_calls_get_a_span_that_is_current_only_during_the_call(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """Sync and async direct calls each make a root span, current inside, gone after."""
    runtime = make_runtime()

    @runtime.capability
    def sync_where(payload: dict[str, Any]) -> dict[str, str]:
        return current_ids()

    @runtime.capability
    async def async_where(payload: dict[str, Any]) -> dict[str, str]:
        await asyncio.sleep(0)
        return current_ids()

    inside_sync = sync_where({})
    inside_async = asyncio.run(async_where({}))
    assert trace_api.get_current_span() is trace_api.INVALID_SPAN
    spans = by_name(span_exporter)
    for name, inside in (("sync_where", inside_sync), ("async_where", inside_async)):
        span = spans[f"capability {name}"]
        assert span.parent is None
        assert inside == {
            "trace": hex_id(span.context.trace_id, 32),
            "span": hex_id(span.context.span_id, 16),
        }


def test_failures_are_errors_and_rejected_input_is_not(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """A raise is an ERROR span (server span too, 500); InvalidInput leaves both unset (422)."""
    runtime = make_runtime()

    @runtime.capability
    async def broken(payload: dict[str, Any]) -> None:
        raise LookupError("the rate table has no row 'x'")

    @runtime.capability
    async def picky(payload: dict[str, Any]) -> None:
        raise InvalidInput("mass_kg must be positive")

    with RuntimeClient(runtime) as client:
        assert client.post("/v1/capabilities/broken", json={}).status_code == 500
        broken_spans = span_exporter.get_finished_spans()
        span_exporter.clear()
        assert client.post("/v1/capabilities/picky", json={}).status_code == 422
        picky_spans = span_exporter.get_finished_spans()
    call, server = broken_spans
    assert call.status.status_code is trace_api.StatusCode.ERROR
    assert call.status.description == "LookupError"  # the class, never the message
    assert (call.attributes or {})["error.type"] == "LookupError"
    assert server.status.status_code is trace_api.StatusCode.ERROR
    assert (server.attributes or {})["http.response.status_code"] == 500
    call, server = picky_spans
    assert call.status.status_code is trace_api.StatusCode.UNSET
    assert (call.attributes or {})["greenlang.outcome"] == "client_error"
    assert server.status.status_code is trace_api.StatusCode.UNSET
    assert (server.attributes or {})["http.response.status_code"] == 422


def test_probes_make_no_spans_and_routes_are_named_by_template(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """Probes are not traced; the author's routes are named by template, unmatched by method."""

    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["item_id"])

    app = Starlette(routes=[Route("/items/{item_id}", item)])
    runtime = make_runtime(app=app)
    with RuntimeClient(runtime) as client:
        for probe in ("/health/live", "/health/ready", "/health/startup"):
            assert client.get(probe).status_code == 200
        assert span_exporter.get_finished_spans() == ()
        assert client.get("/items/sku-42").text == "sku-42"
        assert client.get("/nowhere").status_code == 404
        assert client.get("/v1/capabilities").status_code == 200
    names = [span.name for span in span_exporter.get_finished_spans()]
    assert names == ["GET /items/{item_id}", "GET", "GET /v1/capabilities"]
    routed = span_exporter.get_finished_spans()[0]
    assert (routed.attributes or {})["http.route"] == "/items/{item_id}"
    assert (routed.attributes or {})["url.path"] == "/items/sku-42"


def test_only_failed_dependency_checks_make_spans(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """A check that fails is a root ERROR span; one that passes makes none."""
    runtime = make_runtime()

    @runtime.dependency("ledger", critical=False, interval=0.05)
    async def ledger() -> None:
        return None

    @runtime.dependency("vector-store", critical=False, interval=0.05)
    async def vector_store() -> None:
        raise ConnectionRefusedError("vector store refused")

    with RuntimeClient(runtime) as client:
        deadline = time.monotonic() + 10  # a bound on a hang
        while not span_exporter.get_finished_spans() and time.monotonic() < deadline:
            client.get("/health/ready")
            time.sleep(0.05)
    spans = span_exporter.get_finished_spans()
    assert spans, "no span for the failing check"
    assert {span.name for span in spans} == {"check vector-store"}
    span = spans[0]
    assert span.parent is None
    assert span.status.status_code is trace_api.StatusCode.ERROR
    assert (span.attributes or {})["greenlang.dependency"] == "vector-store"
    assert (span.attributes or {})["error.type"] == "ConnectionRefusedError"


def openmetrics_after_a_call(runtime: AgentRuntime, traceparent: str) -> str:
    """Call an echo capability over HTTP with ``traceparent``, then scrape as Prometheus would."""

    @runtime.capability
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    with RuntimeClient(runtime) as client:
        client.post("/v1/capabilities/echo", json={}, headers={"traceparent": traceparent})
    scraped = TestClient(runtime.metrics_app).get(
        "/metrics", headers={"accept": "application/openmetrics-text"}
    )
    assert scraped.headers["content-type"].startswith("application/openmetrics-text")
    return scraped.text


def test_openmetrics_scrape_carries_the_trace_id_of_a_sampled_request(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """Asked for OpenMetrics, the bucket of a traced call names its trace id; text format not."""
    runtime = make_runtime()
    scraped = openmetrics_after_a_call(runtime, TRACEPARENT)
    with_exemplar = [
        line
        for line in scraped.splitlines()
        if line.startswith("agent_request_duration_seconds_bucket") and " # {" in line
    ]
    # One call: one exemplar, on the first bucket whose bound its duration does not pass.
    (line,) = with_exemplar
    series, _, exemplar = line.partition(" # ")
    labels, value = exemplar.rsplit(" ", 2)[0], exemplar.split(" ")[1]
    assert labels == f'{{trace_id="{TRACE_ID}"}}'
    bound = series.split('le="')[1].split('"')[0]
    assert float(value) <= float(bound)
    assert series.endswith(" 1.0")  # the cumulative count there is the one call
    plain = TestClient(runtime.metrics_app).get("/metrics").text
    assert TRACE_ID not in plain  # the Prometheus text format has no exemplars


def test_unsampled_requests_leave_no_exemplar(
    make_runtime: Callable[..., AgentRuntime], span_exporter: InMemorySpanExporter
) -> None:
    """A caller that did not sample its trace (flags 00) gets no span and no exemplar."""
    scraped = openmetrics_after_a_call(make_runtime(), f"00-{TRACE_ID}-{CALLER_SPAN_ID}-00")
    assert span_exporter.get_finished_spans() == ()
    assert "trace_id" not in scraped


def test_without_tracing_nothing_is_registered(
    make_runtime: Callable[..., AgentRuntime],
) -> None:
    """No provider and no OTEL_* variable: no observer, no server spans, no exemplar hook."""
    runtime = make_runtime()
    assert runtime.tracing is None
    assert runtime.call_observers == []
    assert runtime.asgi_app.server_spans is None
    assert runtime.metrics.sampled_trace_id is None
