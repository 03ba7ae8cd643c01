"""Identity and settings, built once from the environment and validated there.

The defaults here are the single source for everything that must agree
between the runtime and the manifests rendered for it: ports, probe paths,
drain and pre-stop seconds.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from urllib.parse import parse_qs, urlsplit

from greenlang_runtime._redact import redact_url
from greenlang_runtime.exceptions import ConfigError

__all__ = [
    "CAPABILITIES_PATH",
    "ENVIRONMENTS",
    "GRACE_MARGIN_SECONDS",
    "LIVE_PATH",
    "LOG_FORMATS",
    "METRICS_PATH",
    "READY_PATH",
    "RUN_AS_UID",
    "STARTUP_PATH",
    "Identity",
    "SecretUrl",
    "Settings",
]

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
STARTUP_PATH = "/health/startup"
CAPABILITIES_PATH = "/v1/capabilities"
METRICS_PATH = "/metrics"

# Added to pre-stop + drain + hooks for the pod's terminationGracePeriodSeconds:
# time for the process to exit after its hooks, before the kubelet's SIGKILL.
GRACE_MARGIN_SECONDS = 2.0
# The uid (and gid) the agent's image and its pod run as: not root, and at
# least 10000 so it matches no user of the node.
RUN_AS_UID = 10001

ENVIRONMENTS = ("development", "staging", "production")

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# A Kubernetes label value: the identity also becomes pod labels.
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")
_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# auto: json, or text when standard error is a terminal (a developer at a shell).
LOG_FORMATS = ("auto", "json", "text")

_DNS_LABEL_RULE = (
    "it must be a DNS-1123 label: at most 63 lowercase letters, digits "
    "and '-', starting and ending with a letter or digit"
)
_LABEL_VALUE_RULE = (
    "it must be a Kubernetes label value: 1 to 63 letters, digits, "
    "'-', '_' or '.', starting and ending with a letter or digit"
)


def _matching(pattern: re.Pattern[str], rule: str) -> Callable[[str, str], str]:
    def check(name: str, value: str) -> str:
        if not value or not pattern.fullmatch(value):
            raise ConfigError(name, value, rule)
        return value

    return check


_dns_label = _matching(_DNS_LABEL, _DNS_LABEL_RULE)
_label_value = _matching(_LABEL_VALUE, _LABEL_VALUE_RULE)


def _environment(name: str, value: str) -> str:
    if value not in ENVIRONMENTS:
        raise ConfigError(name, value, f"it must be one of {', '.join(ENVIRONMENTS)}")
    return value


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this agent is: the values of the ``agent_id, version, tenant_id`` labels.

    Args:
        agent_id: DNS-1123 label naming the agent (``AGENT_ID``).
        version: the agent's release (``AGENT_VERSION``).
        tenant_id: DNS-1123 label naming the tenant (``TENANT_ID``).
        environment: development, staging or production (``ENVIRONMENT``).
        lifecycle_state: the agent's lifecycle label (``AGENT_LIFECYCLE_STATE``).
    """

    agent_id: str = "agent"
    version: str = "0.0.0"
    tenant_id: str = "default"
    environment: str = "development"
    lifecycle_state: str = "active"

    def __post_init__(self) -> None:
        _dns_label("agent_id", self.agent_id)
        _label_value("version", self.version)
        _dns_label("tenant_id", self.tenant_id)
        _environment("environment", self.environment)
        _label_value("lifecycle_state", self.lifecycle_state)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: str | None
    ) -> Identity:
        """Build the identity from the environment; non-``None`` overrides win.

        Errors name the environment variable the bad value came from.
        """
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for field, variable, check in _IDENTITY_SOURCES:
            override = overrides.pop(field, None)
            if override is not None:
                values[field] = check(field, override)
            elif variable in env:
                values[field] = check(variable, env[variable])
        if overrides:
            raise TypeError(f"unknown identity field(s): {', '.join(sorted(overrides))}")
        return cls(**values)

    @property
    def labels(self) -> tuple[str, str, str]:
        """The values of the labels every ``agent_*`` series carries."""
        return (self.agent_id, self.version, self.tenant_id)


_IDENTITY_SOURCES: tuple[tuple[str, str, Callable[[str, str], str]], ...] = (
    ("agent_id", "AGENT_ID", _dns_label),
    ("version", "AGENT_VERSION", _label_value),
    ("tenant_id", "TENANT_ID", _dns_label),
    ("environment", "ENVIRONMENT", _environment),
    ("lifecycle_state", "AGENT_LIFECYCLE_STATE", _label_value),
)


# Plain ASCII digits only: int() and float() would also take "18_300",
# full-width digits, "1e3" and "inf".
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")


def _to_int(name: str, raw: str) -> int:
    text = raw.strip()
    try:
        if _INTEGER.fullmatch(text):
            return int(text)
    except ValueError:  # more digits than Python converts
        pass
    raise ConfigError(name, raw, "it must be a whole number")


def _to_seconds(name: str, raw: str) -> float:
    text = raw.strip()
    if _DECIMAL.fullmatch(text):
        return float(text)
    try:
        float(text)
    except ValueError:
        raise ConfigError(name, raw, "it must be a number of seconds") from None
    # nan, inf, 1e3, 1_0 and non-ASCII digits: numbers to Python, not here.
    raise ConfigError(name, raw, "it must be a finite number of seconds in plain digits, e.g. 2.5")


def _to_text(name: str, raw: str) -> str:
    return raw.strip()


def _to_optional_text(name: str, raw: str) -> str | None:
    return raw.strip() or None


def _check_optional_path(name: str, value: object, shown: object) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(name, shown, "it must be the path of a file")


def _to_lower(name: str, raw: str) -> str:
    return raw.strip().lower()


def _to_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, raw, "it must be true or false")


# Checks of typed values, shared by the environment and by Settings(...) in
# code: ``shown`` is the value as the user wrote it, quoted in the error.


def _check_port(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(name, shown, "a port must be a whole number between 1 and 65535")


def _check_at_least_one(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, shown, "it must be a whole number of at least 1")


def _check_head_bytes(name: str, value: object, shown: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < _MIN_HEAD_BYTES:
        raise ConfigError(
            name,
            shown,
            f"it must be a whole number of at least {_MIN_HEAD_BYTES} "
            "(a request head needs room for its request line and headers)",
        )


_MIN_HEAD_BYTES = 1024


def _check_seconds(name: str, value: object, shown: object) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ConfigError(name, shown, "it must be a finite, non-negative number of seconds")


def _check_positive_seconds(name: str, value: object, shown: object) -> None:
    _check_seconds(name, value, shown)
    if value == 0:
        raise ConfigError(name, shown, "it must be more than 0 seconds")


def _check_host(name: str, value: object, shown: object) -> None:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise ConfigError(name, shown, "it must be a host name or IP address")


def _check_log_level(name: str, value: object, shown: object) -> None:
    if value not in _LOG_LEVELS:
        raise ConfigError(name, shown, f"it must be one of {', '.join(_LOG_LEVELS)}")


def _check_log_format(name: str, value: object, shown: object) -> None:
    if value not in LOG_FORMATS:
        raise ConfigError(name, shown, f"it must be one of {', '.join(LOG_FORMATS)}")


def _check_bool(name: str, value: object, shown: object) -> None:
    if not isinstance(value, bool):
        raise ConfigError(name, shown, "it must be true or false")


class SecretUrl:
    """A URL that holds a password: shown redacted everywhere, revealed only to its client.

    Args:
        value: the URL as configured.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The URL with its password, for the client library that connects with it."""
        return self._value

    def __str__(self) -> str:
        return redact_url(self._value)

    def __repr__(self) -> str:
        return f"SecretUrl({redact_url(self._value)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _to_url(name: str, raw: str) -> SecretUrl | None:
    return SecretUrl(raw.strip()) if raw.strip() else None


def _url_checker(schemes: tuple[str, ...]) -> Callable[[str, object, object], None]:
    def check(name: str, value: object, shown: object) -> None:
        if value is None:
            return
        if not isinstance(value, SecretUrl):
            raise ConfigError(name, "(not shown)", "it must be a URL given as text")
        url = value.reveal()
        redacted = redact_url(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ConfigError(
                name, redacted, "it is not a URL, or its port is not a number from 0 to 65535"
            ) from None
        if parts.scheme not in schemes:
            raise ConfigError(
                name, redacted, f"its scheme must be one of {', '.join(s + '://' for s in schemes)}"
            )
        socket = parts.scheme == "unix" or "host" in parse_qs(parts.query)
        if not parts.hostname and not socket:
            raise ConfigError(name, redacted, "it names no host")
        if port == 0:
            raise ConfigError(name, redacted, "its port must be between 1 and 65535")

    return check


@dataclass(frozen=True, slots=True)
class Settings:
    """The runtime's own knobs; each field is read from ``GL_<FIELD>``.

    Args:
        http_host: address both listeners bind (``GL_HTTP_HOST``).
        http_port: probes, capabilities and the author's routes.
        metrics_port: ``GET /metrics``.
        max_body_bytes: largest request body a capability accepts.
        max_header_bytes: largest request head (request line and headers);
            larger is answered 431 and the connection closed.
        header_timeout_seconds: time a client has to send a complete request
            head; then the connection is closed.
        prestop_delay_seconds: after SIGTERM, how long requests keep being
            served while the endpoint removal propagates.
        drain_timeout_seconds: how long in-flight requests may then take.
        shutdown_hooks_timeout_seconds: bound on the ``on_shutdown`` hooks.
        loop_stall_seconds: an event loop stalled this long fails liveness.
        log_level: level of the runtime's and the server's logs.
        log_format: ``json`` (one object per line), ``text`` (for a terminal),
            or ``auto``: ``text`` when standard error is a terminal, else ``json``.
        access_log: whether every request is logged.
        database_url: PostgreSQL to check (``DATABASE_URL``); shown redacted.
        redis_url: Redis to check (``REDIS_URL``); shown redacted.
        check_timeout_seconds: default bound on one dependency check.
        check_interval_seconds: default time from one check's start to the next.
        check_failure_threshold: failures in a row that turn an up dependency down.
        check_success_threshold: successes in a row that turn a down dependency up.
        llm_prices_file: a YAML or JSON file of LLM price overrides
            (``GL_LLM_PRICES_FILE``), read and checked when the runtime is built.
    """

    http_host: str = "0.0.0.0"  # noqa: S104 - a pod must listen on its own IP
    http_port: int = 8000
    metrics_port: int = 9090
    max_body_bytes: int = 10 * 1024 * 1024
    max_header_bytes: int = 65536
    header_timeout_seconds: float = 10.0
    prestop_delay_seconds: float = 5.0
    drain_timeout_seconds: float = 20.0
    shutdown_hooks_timeout_seconds: float = 3.0
    loop_stall_seconds: float = 10.0
    log_level: str = "info"
    log_format: str = "auto"
    access_log: bool = False
    database_url: SecretUrl | None = None
    redis_url: SecretUrl | None = None
    check_timeout_seconds: float = 2.0
    check_interval_seconds: float = 5.0
    check_failure_threshold: int = 2
    check_success_threshold: int = 2
    llm_prices_file: str | None = None

    def __post_init__(self) -> None:
        for name in ("database_url", "redis_url"):
            value = getattr(self, name)
            if isinstance(value, str):  # given in code as plain text
                object.__setattr__(self, name, _to_url(name, value))
        for field in fields(self):
            value = getattr(self, field.name)
            _SETTINGS[field.name][1](field.name, value, value)
        if self.http_port == self.metrics_port:
            raise ConfigError(
                "GL_METRICS_PORT",
                str(self.metrics_port),
                f"it must differ from GL_HTTP_PORT ({self.http_port})",
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``GL_*`` knob that is set; the rest keep their defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            variable = env_name(field.name)
            if variable in env:
                values[field.name] = parse_setting(field.name, env[variable], variable)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def termination_grace_seconds(self) -> float:
        """Pre-stop delay, drain and hooks: what the pod's grace period must cover."""
        return (
            self.prestop_delay_seconds
            + self.drain_timeout_seconds
            + self.shutdown_hooks_timeout_seconds
        )


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``GL_*`` variables that set nothing: most likely misspelt."""
    env = os.environ if environ is None else environ
    known = {env_name(field) for field in _SETTINGS}
    return sorted(name for name in env if name.startswith("GL_") and name not in known)


def env_name(field: str) -> str:
    """The environment variable that sets a :class:`Settings` field."""
    return _PLATFORM_VARIABLES.get(field) or "GL_" + field.upper()


# Settings read from the platform's own variables rather than GL_*.
_PLATFORM_VARIABLES = {"database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}


def parse_setting(field: str, raw: str, name: str | None = None) -> object:
    """Parse and check one setting given as text, naming ``name`` on error."""
    name = name or env_name(field)
    convert, check = _SETTINGS[field]
    value = convert(name, raw)
    check(name, value, redact_url(raw) if field in _PLATFORM_VARIABLES else raw)
    return value


_SETTINGS: dict[str, tuple[Callable[[str, str], object], Callable[[str, object, object], None]]] = {
    "http_host": (_to_text, _check_host),
    "http_port": (_to_int, _check_port),
    "metrics_port": (_to_int, _check_port),
    "max_body_bytes": (_to_int, _check_at_least_one),
    "max_header_bytes": (_to_int, _check_head_bytes),
    "header_timeout_seconds": (_to_seconds, _check_positive_seconds),
    "prestop_delay_seconds": (_to_seconds, _check_seconds),
    "drain_timeout_seconds": (_to_seconds, _check_seconds),
    "shutdown_hooks_timeout_seconds": (_to_seconds, _check_seconds),
    "loop_stall_seconds": (_to_seconds, _check_positive_seconds),
    "log_level": (_to_lower, _check_log_level),
    "log_format": (_to_lower, _check_log_format),
    "access_log": (_to_bool, _check_bool),
    "database_url": (_to_url, _url_checker(("postgres", "postgresql"))),
    "redis_url": (_to_url, _url_checker(("redis", "rediss", "unix"))),
    "check_timeout_seconds": (_to_seconds, _check_positive_seconds),
    "check_interval_seconds": (_to_seconds, _check_positive_seconds),
    "check_failure_threshold": (_to_int, _check_at_least_one),
    "check_success_threshold": (_to_int, _check_at_least_one),
    "llm_prices_file": (_to_optional_text, _check_optional_path),
}
