"""OpenTelemetry tracing: a span per request, per capability call, per failed check.

Tracing is on when the application has set up a tracer provider of its own
(which it keeps), or when the ``OTEL_*`` variables ask for an exporter
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_TRACES_EXPORTER``). Otherwise it is
off, and then nothing here imports or calls the OpenTelemetry API: the
request and call paths only find that no tracer was registered.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from greenlang_runtime._lazy import lazy_names
from greenlang_runtime._redact import remember
from greenlang_runtime.config import Identity
from greenlang_runtime.tracing._config import (
    TracingConfig,
    header_secrets,
    read_config,
    secrets,
)
from greenlang_runtime.tracing._provider import PROVIDER_VARIABLE, application_provider

if TYPE_CHECKING:
    from greenlang_runtime.tracing._setup import Tracing
    from greenlang_runtime.tracing._spans import ServerSpans

__all__ = [
    "PROVIDER_VARIABLE",
    "ServerSpans",
    "Tracing",
    "TracingConfig",
    "application_provider",
    "make_tracing",
    "read_config",
    "secrets",
]

logger = logging.getLogger("greenlang_runtime")
# Loaded when first used: both need the OpenTelemetry API, which tracing off never loads.
_HOMES = {
    "ServerSpans": "greenlang_runtime.tracing._spans",
    "Tracing": "greenlang_runtime.tracing._setup",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)


def make_tracing(identity: Identity, environ: Mapping[str, str] | None = None) -> Tracing | None:
    """The runtime's tracing as the application and the ``OTEL_*`` variables ask, or ``None``.

    Raises :class:`~greenlang_runtime.ConfigError` naming the variable on a
    bad ``OTEL_*`` value, or when the OTLP exporter (the ``otlp`` extra) is
    missing.
    """
    env = os.environ if environ is None else environ
    # The export headers hold API keys: masked wherever they show, tracing on or off.
    remember(header_secrets(env))
    config = read_config(identity, env)
    remember(secrets(config))
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() in ("true", "1", "yes", "on"):
        return None
    own = application_provider(PROVIDER_VARIABLE in env)
    if own is not None:
        from greenlang_runtime.tracing._setup import Tracing

        logger.debug("tracing with the tracer provider the application set up")
        return Tracing(own, owned=False)
    if not config.exporters:
        return None
    from greenlang_runtime.tracing._setup import Tracing, build_provider, install

    provider = build_provider(config)
    install(provider)
    return Tracing(provider, owned=True)
