"""The standard ``OTEL_*`` variables, read once and checked like the ``GL_*`` ones.

The OpenTelemetry SDK reads these variables itself, but warns and falls back
to a default on a bad value; here a bad value stops the start with a message
naming the variable, as every other setting does.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

from greenlang_runtime._redact import MASK, redact_url
from greenlang_runtime.config import Identity
from greenlang_runtime.exceptions import ConfigError

__all__ = ["SAMPLERS", "TracingConfig", "header_secrets", "read_config", "secrets"]

SAMPLERS: Final = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
_EXPORTERS: Final = ("otlp", "console", "none")
_PROTOCOL: Final = "http/protobuf"
_TRACES_PATH: Final = "/v1/traces"
_TRUE: Final = ("true", "1", "yes", "on")
_FALSE: Final = ("false", "0", "no", "off", "")
_KEY: Final = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


@dataclass(frozen=True, slots=True)
class TracingConfig:
    """What the ``OTEL_*`` variables ask for, checked.

    Args:
        exporters: where spans go (``otlp``, ``console``); empty: tracing off.
        endpoint: the full OTLP/HTTP traces URL.
        headers: sent with every export (may hold an API key: never shown).
        sampler: one of :data:`SAMPLERS`.
        ratio: the sampler's argument, for the ``traceidratio`` samplers.
        resource: the resource attributes of every span.
    """

    exporters: tuple[str, ...]
    endpoint: str | None
    headers: Mapping[str, str]
    sampler: str
    ratio: float
    resource: Mapping[str, str]

    def __repr__(self) -> str:
        headers = dict.fromkeys(self.headers, MASK)
        return (
            f"TracingConfig(exporters={self.exporters!r}, endpoint={self.endpoint!r}, "
            f"headers={headers!r}, sampler={self.sampler!r}, ratio={self.ratio!r})"
        )


def read_config(identity: Identity, environ: Mapping[str, str] | None = None) -> TracingConfig:
    """Read and check the ``OTEL_*`` variables; ``exporters`` is empty when tracing is off."""
    env = os.environ if environ is None else environ
    disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower()
    if disabled not in _TRUE + _FALSE:
        raise ConfigError("OTEL_SDK_DISABLED", env["OTEL_SDK_DISABLED"], "it must be true or false")
    endpoint = _endpoint(env)
    exporters = _exporters(env, endpoint is not None)
    if disabled in _TRUE:
        exporters = ()
    if "otlp" in exporters:
        _check_protocol(env)
        if endpoint is None:
            endpoint = "http://localhost:4318" + _TRACES_PATH
    sampler, ratio = _sampler(env)
    return TracingConfig(
        exporters=exporters,
        endpoint=endpoint,
        headers=_pairs(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS")
        or _pairs(env, "OTEL_EXPORTER_OTLP_HEADERS"),
        sampler=sampler,
        ratio=ratio,
        resource=_resource(identity, env),
    )


def secrets(config: TracingConfig) -> tuple[str, ...]:
    """The values that must never show in a log line (export headers hold API keys)."""
    return tuple(value for value in config.headers.values() if value)


def header_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values of every ``OTEL_EXPORTER_OTLP_*HEADERS`` variable, as written and decoded.

    Read leniently (a malformed entry still yields its value): these are
    masked whether or not tracing uses them.
    """
    found: list[str] = []
    for name, raw in env.items():
        if name.startswith("OTEL_EXPORTER_OTLP_") and name.endswith("HEADERS"):
            for item in raw.split(","):
                value = item.partition("=")[2].strip()
                found.extend((value, unquote(value)))
    return tuple(v for v in dict.fromkeys(found) if v)


def _endpoint(env: Mapping[str, str]) -> str | None:
    """The traces URL: the signal's own variable as given, else the base URL + /v1/traces."""
    for name, suffix in (
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", _TRACES_PATH),
    ):
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ConfigError(name, redact_url(raw), "it is not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                name, redact_url(raw), "it must be an http:// or https:// URL naming a host"
            )
        return raw.rstrip("/") + suffix if suffix else raw
    return None


def _exporters(env: Mapping[str, str], endpoint_set: bool) -> tuple[str, ...]:
    raw = env.get("OTEL_TRACES_EXPORTER")
    if raw is None or not raw.strip():
        # The standard default is otlp; here tracing stays off until asked for.
        return ("otlp",) if endpoint_set else ()
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
    for name in names:
        if name not in _EXPORTERS:
            raise ConfigError(
                "OTEL_TRACES_EXPORTER",
                raw,
                f"{name!r} is not supported: use otlp, console or none (comma-separated)",
            )
    return tuple(n for n in names if n != "none")


def _check_protocol(env: Mapping[str, str]) -> None:
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        raw = env.get(name, "").strip()
        if not raw:
            continue
        if raw.lower() != _PROTOCOL:
            raise ConfigError(
                name,
                raw,
                f"only {_PROTOCOL} is supported (the collector's OTLP/HTTP port, usually 4318)",
            )
        return


def _sampler(env: Mapping[str, str]) -> tuple[str, float]:
    name = env.get("OTEL_TRACES_SAMPLER", "").strip().lower() or "parentbased_always_on"
    if name not in SAMPLERS:
        raise ConfigError(
            "OTEL_TRACES_SAMPLER",
            env["OTEL_TRACES_SAMPLER"],
            f"it must be one of {', '.join(SAMPLERS)}",
        )
    raw = env.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    if not raw or not name.endswith("traceidratio"):
        return name, 1.0
    try:
        ratio = float(raw)
    except ValueError:
        ratio = math.nan
    if not 0.0 <= ratio <= 1.0:
        raise ConfigError(
            "OTEL_TRACES_SAMPLER_ARG", raw, "it must be a sampling ratio from 0 to 1, e.g. 0.25"
        )
    return name, ratio


def _pairs(env: Mapping[str, str], name: str) -> dict[str, str]:
    """``key=value,key2=value2`` (values percent-encoded), as the OTLP variables write them."""
    raw = env.get(name, "")
    pairs: dict[str, str] = {}
    for index, item in enumerate(raw.split(","), start=1):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            # Values may hold secrets (API keys): say where, never what.
            raise ConfigError(
                name, "(not shown)", f"entry {index} is not key=value with a plain key"
            )
        pairs[key] = unquote(value.strip())
    return pairs


def _resource(identity: Identity, env: Mapping[str, str]) -> dict[str, str]:
    """The agent's identity as resource attributes, overridden by the ``OTEL_*`` ones."""
    attributes = {
        "service.name": identity.agent_id,
        "service.version": identity.version,
        "deployment.environment.name": identity.environment,
        "greenlang.agent_id": identity.agent_id,
        "greenlang.tenant_id": identity.tenant_id,
    }
    attributes.update(_pairs(env, "OTEL_RESOURCE_ATTRIBUTES"))
    service = env.get("OTEL_SERVICE_NAME", "").strip()
    if service:
        attributes["service.name"] = service
    return attributes
