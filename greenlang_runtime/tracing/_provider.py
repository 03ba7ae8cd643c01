"""The tracer provider the application set up: the one rule, for the runtime and its LLM spans.

Reads the OpenTelemetry API's module state rather than calling
``get_tracer_provider()`` (which would install a proxy), and imports nothing
while the application has neither imported OpenTelemetry nor named a
provider in ``OTEL_PYTHON_TRACER_PROVIDER``: the call paths that ask on
every call then only look ``opentelemetry.trace`` up in ``sys.modules``.
"""

from __future__ import annotations

import sys
from typing import Any, Final

__all__ = ["PROVIDER_VARIABLE", "application_provider"]

# Names a provider class the OpenTelemetry API loads when first asked for one.
PROVIDER_VARIABLE: Final = "OTEL_PYTHON_TRACER_PROVIDER"


def application_provider(named: bool) -> Any:
    """The tracer provider the application set up, or ``None``.

    Args:
        named: whether the runtime's environment names a provider in
            ``OTEL_PYTHON_TRACER_PROVIDER`` (the API then loads it when
            first asked, and it is asked).
    """
    api: Any = sys.modules.get("opentelemetry.trace")
    if api is None:
        if not named:
            return None
        import opentelemetry.trace as api
    provider = getattr(api, "_TRACER_PROVIDER", None)
    if provider is None:
        if not named:
            return None
        provider = api.get_tracer_provider()
    if isinstance(provider, api.NoOpTracerProvider | api.ProxyTracerProvider):
        return None
    return provider
