"""The collector of the non-LLM ``agent_*`` series: counted per call, exposed per scrape."""

from __future__ import annotations

import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition

from greenlang_runtime import AgentRuntime
from greenlang_runtime.config import Identity
from greenlang_runtime.metrics import AgentMetrics
from greenlang_runtime.testing import metric_value

IDENTITY = Identity.from_env(
    {}, agent_id="gl-cbam-calculator-v2", version="2.3.1", tenant_id="customer-abc-123"
)
LABELS = {"agent_id": "gl-cbam-calculator-v2", "version": "2.3.1", "tenant_id": "customer-abc-123"}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"


def openmetrics(registry: CollectorRegistry) -> str:
    """The exposition in the OpenMetrics format, the one that carries exemplars."""
    text: bytes = exposition.generate_latest(registry)  # type: ignore[no-untyped-call]
    return text.decode()


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {**LABELS, **labels})


def test_a_call_is_in_flight_from_its_begin_to_its_end() -> None:
    """begin() counts the call in flight and end() counts it out, as a success."""
    registry = CollectorRegistry()
    stats = AgentMetrics(IDENTITY, registry).stats("calculate")
    first, second = stats.begin(), stats.begin()
    assert value(registry, "agent_inflight_requests") == 2
    stats.end(first, False)
    assert value(registry, "agent_inflight_requests") == 1
    stats.end(second, True, "ValueError")
    assert value(registry, "agent_inflight_requests") == 0
    requests = "agent_requests_total"
    assert value(registry, requests, capability="calculate", status="success") == 1
    assert value(registry, requests, capability="calculate", status="error") == 1
    assert value(registry, "agent_errors_total", error_type="ValueError") == 1


def test_exemplars_carry_the_trace_id_the_constructor_was_given() -> None:
    """A call of 200 ms lands in the le=0.5 bucket with the sampled trace's id as exemplar."""
    registry = CollectorRegistry()
    metrics = AgentMetrics(IDENTITY, registry, sampled_trace_id=lambda: TRACE_ID)
    stats = metrics.stats("calculate")
    stats.begin()
    stats.end(time.perf_counter() - 0.2, False)
    lines = openmetrics(registry).splitlines()
    [bucket] = [
        line
        for line in lines
        if line.startswith("agent_request_duration_seconds_bucket{") and 'le="0.5"' in line
    ]
    assert f'# {{trace_id="{TRACE_ID}"}} 0.2' in bucket
    others = [line for line in lines if "trace_id" in line and line != bucket]
    assert others == []


def test_without_a_trace_id_source_there_are_no_exemplars() -> None:
    """No sampled_trace_id given (tracing off): the exposition carries no exemplar."""
    registry = CollectorRegistry()
    stats = AgentMetrics(IDENTITY, registry).stats("calculate")
    stats.end(stats.begin(), False)
    assert "trace_id" not in openmetrics(registry)


def test_routes_past_the_cap_share_the_other_label() -> None:
    """The first 200 route templates are labels of their own; the 201st and later are 'other'."""
    registry = CollectorRegistry()
    metrics = AgentMetrics(IDENTITY, registry)
    for number in range(203):
        stats = metrics.stats(f"/items/{number}", route=True)
        stats.end(stats.begin(), False)
    requests = "agent_requests_total"
    assert value(registry, requests, capability="/items/199", status="success") == 1
    assert value(registry, requests, capability="/items/200", status="success") is None
    assert value(registry, requests, capability="other", status="success") == 3


def test_error_types_are_bounded(runtime: AgentRuntime) -> None:
    """Past 50 distinct exception classes, further ones are counted as 'other'."""
    classes = [type(f"Error{i}", (Exception,), {}) for i in range(60)]

    @runtime.capability
    def fail(payload: int) -> None:
        raise classes[payload]()

    for i in range(60):
        with pytest.raises(tuple(classes)):
            fail(i)
    assert metric_value(runtime, "agent_errors_total", {"error_type": "Error49"}) == 1
    assert metric_value(runtime, "agent_errors_total", {"error_type": "Error50"}) is None
    assert metric_value(runtime, "agent_errors_total", {"error_type": "other"}) == 10


def test_an_error_type_is_masked_and_bounded_in_length(runtime: AgentRuntime) -> None:
    """A class named like a key shows ``***``; one of 200 characters is counted as 'other'."""
    keyed = type("sk-0123456789abcdefghij", (Exception,), {})
    long = type("E" * 200, (Exception,), {})

    @runtime.capability
    def fail(payload: int) -> None:
        raise (keyed, long)[payload]()

    for which in (0, 1):
        with pytest.raises((keyed, long)):
            fail(which)
    exposition = generate_latest(runtime.registry).decode()
    assert "0123456789abcdef" not in exposition
    assert "E" * 129 not in exposition
    assert metric_value(runtime, "agent_errors_total", {"error_type": "***"}) == 1
    assert metric_value(runtime, "agent_errors_total", {"error_type": "other"}) == 1
