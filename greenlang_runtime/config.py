"""Identity and settings, built once from the environment and validated there.

The defaults here are the single source for everything that must agree
between the runtime and the manifests rendered for it: ports, probe paths,
drain and pre-stop seconds.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from greenlang_runtime import _setting_rules as rules
from greenlang_runtime._labels import dns_label_problem, label_value_problem
from greenlang_runtime._redact import environment_secrets, redact_url, remember
from greenlang_runtime._setting_rules import LOG_FORMATS, SecretUrl
from greenlang_runtime.exceptions import ConfigError

__all__ = [
    "CAPABILITIES_PATH",
    "DATABASE_URL_VARIABLE",
    "ENVIRONMENTS",
    "GRACE_MARGIN_SECONDS",
    "LIVE_PATH",
    "LLM_API_KEYS",
    "LLM_PROVIDERS",
    "LOG_FORMATS",
    "METRICS_PATH",
    "READY_PATH",
    "REDIS_URL_VARIABLE",
    "RUN_AS_UID",
    "SECRET_URLS",
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

# The platform's names for the dependencies' URLs (not GL_*): the Secret's
# keys are mounted under them, and the checks are built from them.
DATABASE_URL_VARIABLE = "DATABASE_URL"
REDIS_URL_VARIABLE = "REDIS_URL"

# The LLM providers the runtime accounts for (llm/ has one module each), and
# the variable and Secret key each one's API key comes from: the spec, the
# manifests and llm/ all read them here.
LLM_PROVIDERS = ("anthropic", "openai")
LLM_API_KEYS = {
    "anthropic": ("ANTHROPIC_API_KEY", "anthropic-api-key"),
    "openai": ("OPENAI_API_KEY", "openai-api-key"),
}


def _dns_label(name: str, value: str) -> str:
    problem = dns_label_problem(value)
    if problem is not None:
        raise ConfigError(name, value, problem)
    return value


def _label_value(name: str, value: str) -> str:
    # The identity also becomes pod labels, and an empty label value says nothing.
    problem = label_value_problem(value)
    if problem is not None:
        raise ConfigError(name, value, problem)
    return value


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
        body_timeout_seconds: time a client has, from the end of a request's
            head, to send its whole body; then it is answered 408 and the
            connection closed.
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
        llm_ledger_url: the PostgreSQL the LLM usage ledger is written to
            (``GL_LLM_LEDGER_URL``); ``None``: no ledger. Shown redacted.
        llm_ledger_table: the ledger's table, optionally schema-qualified.
        llm_ledger_buffer: ledger rows kept in memory while they wait to be
            written; past it, new rows are dropped (and counted).
        llm_ledger_flush_seconds: time between two writes of the ledger.
        llm_budget_usd: the LLM budget of one period in USD, shared through
            Redis; ``None``: no budget (docs/llm.md).
        llm_budget_period: ``day`` or ``month`` (UTC calendar periods).
        llm_budget_scope: ``tenant`` (all the tenant's agents share it) or ``agent``.
        llm_budget_redis_url: the budget's Redis; default ``REDIS_URL``. Shown redacted.
        llm_budget_on_error: ``allow`` (calls go out unchecked) or ``deny``
            while the budget's Redis is unreachable.
        llm_budget_reservation_seconds: how long the reservation of a call
            whose replica died outlives it.
        workers: worker processes sharing the HTTP port (``GL_WORKERS``);
            ``auto``: one per CPU the container may use (docs/workers.md).
    """

    http_host: str = "0.0.0.0"  # noqa: S104 - a pod must listen on its own IP
    http_port: int = 8000
    metrics_port: int = 9090
    max_body_bytes: int = 10 * 1024 * 1024
    max_header_bytes: int = 65536
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
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
    llm_ledger_url: SecretUrl | None = None
    llm_ledger_table: str = "greenlang_llm_usage"
    llm_ledger_buffer: int = 100_000
    llm_ledger_flush_seconds: float = 1.0
    llm_budget_usd: float | None = None
    llm_budget_period: str = "day"
    llm_budget_scope: str = "tenant"
    llm_budget_redis_url: SecretUrl | None = None
    llm_budget_on_error: str = "allow"
    llm_budget_reservation_seconds: float = 600.0
    workers: int | str = 1

    def __post_init__(self) -> None:
        for name in SECRET_URLS:
            value = getattr(self, name)
            if isinstance(value, str):  # given in code as plain text
                object.__setattr__(self, name, rules.to_url(name, value))
        for field in fields(self):
            value = getattr(self, field.name)
            _SETTINGS[field.name][1](field.name, value, value)
        if self.llm_budget_usd is not None and (
            self.llm_budget_redis_url is None and self.redis_url is None
        ):
            raise ConfigError(
                "GL_LLM_BUDGET_REDIS_URL",
                "",
                "a budget (GL_LLM_BUDGET_USD) is shared through Redis: set "
                f"GL_LLM_BUDGET_REDIS_URL or {REDIS_URL_VARIABLE}",
            )
        if self.http_port == self.metrics_port:
            raise ConfigError(
                "GL_METRICS_PORT",
                str(self.metrics_port),
                f"it must differ from GL_HTTP_PORT ({self.http_port})",
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``GL_*`` knob that is set; the rest keep their defaults.

        The providers' API keys set there are masked from then on, wherever they show.
        """
        env = os.environ if environ is None else environ
        remember(environment_secrets(env))
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


def unknown_variable_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per ``GL_*`` variable that sets nothing, naming the closest setting."""
    known = sorted(env_name(field) for field in _SETTINGS)
    warnings = []
    for name in unknown_variables(environ):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"{name} is set but is not a setting of greenlang-runtime; ignored{hint}")
    return warnings


def env_name(field: str) -> str:
    """The environment variable that sets a :class:`Settings` field."""
    return _PLATFORM_VARIABLES.get(field) or "GL_" + field.upper()


# Settings read from the platform's own variables rather than GL_*.
_PLATFORM_VARIABLES = {"database_url": DATABASE_URL_VARIABLE, "redis_url": REDIS_URL_VARIABLE}
# Settings that hold a password: redacted in every message that quotes them.
SECRET_URLS = ("database_url", "redis_url", "llm_ledger_url", "llm_budget_redis_url")


def parse_setting(field: str, raw: str, name: str | None = None) -> object:
    """Parse and check one setting given as text, naming ``name`` on error."""
    name = name or env_name(field)
    convert, check = _SETTINGS[field]
    value = convert(name, raw)
    check(name, value, redact_url(raw) if field in SECRET_URLS else raw)
    return value


_SETTINGS: dict[str, tuple[Callable[[str, str], object], Callable[[str, object, object], None]]] = {
    "http_host": (rules.to_text, rules.check_host),
    "http_port": (rules.to_int, rules.check_port),
    "metrics_port": (rules.to_int, rules.check_port),
    "max_body_bytes": (rules.to_int, rules.check_at_least_one),
    "max_header_bytes": (rules.to_int, rules.check_head_bytes),
    "header_timeout_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "body_timeout_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "prestop_delay_seconds": (rules.to_seconds, rules.check_seconds),
    "drain_timeout_seconds": (rules.to_seconds, rules.check_seconds),
    "shutdown_hooks_timeout_seconds": (rules.to_seconds, rules.check_seconds),
    "loop_stall_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "log_level": (rules.to_lower, rules.check_log_level),
    "log_format": (rules.to_lower, rules.check_log_format),
    "access_log": (rules.to_bool, rules.check_bool),
    "database_url": (rules.to_url, rules.url_checker(("postgres", "postgresql"), multi_host=True)),
    "redis_url": (rules.to_url, rules.url_checker(("redis", "rediss", "unix"))),
    "check_timeout_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "check_interval_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "check_failure_threshold": (rules.to_int, rules.check_at_least_one),
    "check_success_threshold": (rules.to_int, rules.check_at_least_one),
    "llm_prices_file": (rules.to_optional_text, rules.check_optional_path),
    "llm_ledger_url": (rules.to_url, rules.url_checker(("postgres", "postgresql"))),
    "llm_ledger_table": (rules.to_text, rules.check_table_name),
    "llm_ledger_buffer": (rules.to_int, rules.check_ledger_buffer),
    "llm_ledger_flush_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "llm_budget_usd": (rules.to_optional_usd, rules.check_budget_usd),
    "llm_budget_period": (rules.to_lower, rules.choice_checker(("day", "month"))),
    "llm_budget_scope": (rules.to_lower, rules.choice_checker(("tenant", "agent"))),
    "llm_budget_redis_url": (rules.to_url, rules.url_checker(("redis", "rediss", "unix"))),
    "llm_budget_on_error": (rules.to_lower, rules.choice_checker(("allow", "deny"))),
    "llm_budget_reservation_seconds": (rules.to_seconds, rules.check_positive_seconds),
    "workers": (rules.to_workers, rules.check_workers),
}
