"""The OTEL_* variables: when tracing is on, where spans go, how they are sampled and labelled."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import opentelemetry.trace as trace_api
import pytest
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from greenlang_runtime import AgentRuntime, ConfigError
from greenlang_runtime.config import Identity
from greenlang_runtime.tracing import _setup, read_config
from greenlang_runtime.tracing._setup import build_provider

IDENTITY = Identity(
    agent_id="gl-cbam-calculator-v2",
    version="2.3.1",
    tenant_id="customer-abc-123",
    environment="production",
)
COLLECTOR = "http://collector.observability:4318"


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Providers the runtime installs, kept here instead of in the process-wide slot."""
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", None)
    providers: list[object] = []
    monkeypatch.setattr(_setup, "install", providers.append)
    yield providers
    for provider in providers:
        assert isinstance(provider, TracerProvider)
        provider.shutdown()


def test_off_when_nothing_is_configured(installed: list[object]) -> None:
    """No OTEL_* variable and no provider of the application's: tracing is off."""
    assert read_config(IDENTITY, {}).exporters == ()
    assert AgentRuntime(environ={}).tracing is None
    assert installed == []


def test_an_endpoint_turns_otlp_export_on(installed: list[object]) -> None:
    """The base endpoint gets /v1/traces; the traces endpoint is taken as written."""
    config = read_config(IDENTITY, {"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR + "/"})
    assert (config.exporters, config.endpoint) == (("otlp",), COLLECTOR + "/v1/traces")
    own = read_config(IDENTITY, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": COLLECTOR + "/traces"})
    assert own.endpoint == COLLECTOR + "/traces"
    runtime = AgentRuntime(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR})
    assert runtime.tracing is not None
    assert runtime.tracing.owned
    assert installed == [runtime.tracing.provider]


def test_disabled_sdk_and_exporter_none_keep_tracing_off(installed: list[object]) -> None:
    """OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none win over an endpoint."""
    for extra in ({"OTEL_SDK_DISABLED": "true"}, {"OTEL_TRACES_EXPORTER": "none"}):
        environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR, **extra}
        assert AgentRuntime(environ=environ).tracing is None
    assert installed == []


def test_resource_is_the_agent_identity_unless_overridden() -> None:
    """service.name is the agent id, with version, environment and tenant beside it."""
    provider = build_provider(read_config(IDENTITY, {"OTEL_TRACES_EXPORTER": "console"}))
    attributes = dict(provider.resource.attributes)
    assert {k: v for k, v in attributes.items() if not k.startswith("telemetry.")} == {
        "service.name": "gl-cbam-calculator-v2",
        "service.version": "2.3.1",
        "deployment.environment.name": "production",
        "greenlang.agent_id": "gl-cbam-calculator-v2",
        "greenlang.tenant_id": "customer-abc-123",
    }
    provider.shutdown()
    environ = {
        "OTEL_SERVICE_NAME": "cbam",
        "OTEL_RESOURCE_ATTRIBUTES": "service.namespace=greenlang,k8s.pod.name=cbam-7f9c%2D1",
    }
    resource = read_config(IDENTITY, environ).resource
    assert resource["service.name"] == "cbam"
    assert resource["service.namespace"] == "greenlang"
    assert resource["k8s.pod.name"] == "cbam-7f9c-1"  # percent-decoded


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,"),
        ({"OTEL_TRACES_SAMPLER": "always_off"}, "AlwaysOffSampler"),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"},
            "TraceIdRatioBased{0.25}",
        ),
        (
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"},
            "ParentBased{root:TraceIdRatioBased{0.0},",
        ),
    ],
)
def test_sampler_follows_the_variables(environ: dict[str, str], expected: str) -> None:
    """OTEL_TRACES_SAMPLER(+_ARG) choose the SDK sampler; the default follows the parent."""
    config = read_config(IDENTITY, {"OTEL_TRACES_EXPORTER": "console", **environ})
    provider = build_provider(config)
    assert provider.sampler.get_description().startswith(expected)
    provider.shutdown()


@pytest.mark.parametrize(
    ("environ", "variable", "reason"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        (
            {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"},
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "http/protobuf",
        ),
        ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER", "always_on"),
        ({"OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG", "from 0 to 1"),
        ({"OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG", "from 0 to 1"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER", "'zipkin' is not supported"),
        ({"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED", "true or false"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "http"),
    ],
)
def test_bad_values_fail_the_start_naming_the_variable(
    environ: dict[str, str], variable: str, reason: str
) -> None:
    """Each bad OTEL_* value stops AgentRuntime() with a one-line error naming it."""
    sampler = {"OTEL_TRACES_SAMPLER": "traceidratio"} if "SAMPLER_ARG" in variable else {}
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR, **sampler, **environ}
    with pytest.raises(ConfigError) as raised:
        AgentRuntime(environ=environ)
    message = str(raised.value)
    assert message.startswith(f"{variable}=")
    assert reason in message
    assert "\n" not in message


def test_export_headers_never_show_in_errors_or_repr() -> None:
    """An API key in OTEL_EXPORTER_OTLP_HEADERS is masked in the config's repr and errors."""
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR,
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s3cr3t-key,x-team=emissions",
    }
    config = read_config(IDENTITY, environ)
    assert dict(config.headers) == {"api-key": "s3cr3t-key", "x-team": "emissions"}
    assert "s3cr3t-key" not in repr(config)
    environ["OTEL_EXPORTER_OTLP_HEADERS"] = "s3cr3t-key"
    with pytest.raises(ConfigError) as raised:
        read_config(IDENTITY, environ)
    assert "s3cr3t-key" not in str(raised.value)
    assert "OTEL_EXPORTER_OTLP_HEADERS" in str(raised.value)


def test_missing_otlp_extra_is_named(
    monkeypatch: pytest.MonkeyPatch, installed: list[object]
) -> None:
    """Without the OTLP exporter installed, the error names the otlp extra to install."""
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    with pytest.raises(ConfigError) as raised:
        AgentRuntime(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR})
    assert 'pip install "greenlang-runtime[otlp]"' in str(raised.value)


def test_the_applications_own_provider_is_kept(
    monkeypatch: pytest.MonkeyPatch, installed: list[object]
) -> None:
    """A provider the application set up wins over OTEL_* and is only flushed, not replaced."""
    memory = InMemorySpanExporter()
    own = TracerProvider(sampler=sampling.ALWAYS_ON)
    own.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", own)
    runtime = AgentRuntime(environ={"OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR})
    assert runtime.tracing is not None
    assert (runtime.tracing.provider, runtime.tracing.owned) == (own, False)
    assert installed == []
    echo: Callable[[dict[str, int]], dict[str, int]] = runtime.capability("echo")(lambda p: p)
    echo({"n": 1})
    assert [span.name for span in memory.get_finished_spans()] == ["capability echo"]
    own.shutdown()
