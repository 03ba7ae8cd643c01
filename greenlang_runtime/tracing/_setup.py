"""Building the tracer provider the ``OTEL_*`` variables ask for, and flushing it at exit."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import trace
from opentelemetry.sdk.resources import (
    TELEMETRY_SDK_LANGUAGE,
    TELEMETRY_SDK_NAME,
    TELEMETRY_SDK_VERSION,
    Resource,
)
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.version import __version__ as sdk_version
from opentelemetry.trace import Tracer

from greenlang_runtime.exceptions import ConfigError
from greenlang_runtime.tracing._config import TracingConfig
from greenlang_runtime.tracing._spans import (
    CapabilitySpans,
    ServerSpans,
    check_failed,
    sampled_trace_id,
)

__all__ = ["FLUSH_SECONDS", "SpanFlush", "Tracing", "build_provider"]

logger = logging.getLogger("greenlang_runtime")

SCOPE: Final = "greenlang_runtime"
# Spans left in the queue at exit get this long to reach the collector: the
# services' stop is bounded at 1.5 s, inside the pod's grace margin.
FLUSH_SECONDS: Final = 1.0
_SDK: Final = {
    TELEMETRY_SDK_LANGUAGE: "python",
    TELEMETRY_SDK_NAME: "opentelemetry",
    TELEMETRY_SDK_VERSION: sdk_version,
}


def build_provider(config: TracingConfig) -> TracerProvider:
    """An SDK provider with the config's resource, sampler and exporters (a batch each)."""
    provider = TracerProvider(
        sampler=_sampler(config.sampler, config.ratio),
        resource=Resource({**_SDK, **config.resource}),
        # The runtime flushes it in its shutdown, bounded; never again at exit.
        shutdown_on_exit=False,
    )
    for name in config.exporters:
        exporter = (
            _otlp(config.endpoint, config.headers) if name == "otlp" else ConsoleSpanExporter()
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _otlp(endpoint: str | None, headers: Mapping[str, str]) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            endpoint,
            'exporting spans over OTLP needs the otlp extra: pip install "greenlang-runtime[otlp]"',
        ) from None
    return OTLPSpanExporter(endpoint=endpoint, headers=dict(headers) or None)


def _sampler(name: str, ratio: float) -> sampling.Sampler:
    samplers: dict[str, sampling.Sampler] = {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "parentbased_always_on": sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
    }
    if name == "traceidratio":
        return sampling.TraceIdRatioBased(ratio)
    if name == "parentbased_traceidratio":
        return sampling.ParentBasedTraceIdRatio(ratio)
    return samplers[name]


class SpanFlush:
    """A lifespan service: at shutdown, send the spans still queued, within a bound.

    Args:
        provider: the tracer provider to flush.
        owned: whether the runtime built it (then it is also shut down); an
            application's own provider is only flushed.
    """

    def __init__(self, provider: Any, owned: bool) -> None:
        self.provider = provider
        self.owned = owned

    async def start(self) -> None:
        """Nothing to start: the span processors run their own threads."""

    async def stop(self) -> None:
        """Flush (and, if owned, shut down) the provider, giving up after ``FLUSH_SECONDS``."""
        done = threading.Event()
        # A daemon thread: an export stuck on a dead collector never holds the exit.
        worker = threading.Thread(
            target=self._flush, args=(done,), name="greenlang-span-flush", daemon=True
        )
        worker.start()
        if not await asyncio.to_thread(done.wait, FLUSH_SECONDS):
            logger.warning(
                "spans were not all exported within %g s at shutdown; the rest are dropped",
                FLUSH_SECONDS,
            )

    def _flush(self, done: threading.Event) -> None:
        try:
            force_flush = getattr(self.provider, "force_flush", None)
            if force_flush is not None:
                force_flush(int(FLUSH_SECONDS * 1000))
            if self.owned:
                self.provider.shutdown()
        except Exception:
            logger.exception("flushing spans failed")
        finally:
            done.set()


class Tracing:
    """Tracing as this runtime does it: its spans, and the flush at shutdown.

    Args:
        provider: where the runtime's spans go (its own, or the application's).
        owned: whether the runtime built ``provider`` from the ``OTEL_*`` variables.
    """

    def __init__(self, provider: Any, owned: bool) -> None:
        self.provider = provider
        self.owned = owned
        self.tracer: Tracer = provider.get_tracer(SCOPE)
        self.capability_spans = CapabilitySpans(self.tracer)
        self.server_spans = ServerSpans(self.tracer)
        self.flush = SpanFlush(provider, owned)
        self.sampled_trace_id = sampled_trace_id

    def check_failed(self, dependency: str, seconds: float, error_type: str, reason: str) -> None:
        """Record a failed dependency check as a span (passing checks make none)."""
        check_failed(self.tracer, dependency, seconds, error_type, reason)


def install(provider: TracerProvider) -> None:
    """Make ``provider`` the global one, so LLM spans and the author's own spans use it."""
    trace.set_tracer_provider(provider)
