"""The agent spec's data: its constants and value types, shared by the reader and the parser."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from greenlang_runtime.config import LLM_PROVIDERS
from greenlang_runtime.exceptions import SpecError

__all__ = [
    "DEFAULT_HTTP_PORT",
    "DEFAULT_METRICS_PORT",
    "DEFAULT_PROMETHEUS_URL",
    "DEFAULT_REGISTRY",
    "DEPENDENCIES",
    "LLM_PROVIDERS",
    "NAMESPACE_SUFFIXES",
    "ROLLOUTS",
    "SLA_TIERS",
    "TABLE",
    "ArgoCD",
    "Costs",
    "LLMBudget",
    "Resources",
    "Scaling",
    "Slo",
    "check_app",
    "tier_slo",
]

TABLE = "greenlang-runtime"
# llm-ledger: the LLM usage ledger's PostgreSQL (GL_LLM_LEDGER_URL), which may be
# another server than the agent's own database.
DEPENDENCIES = ("postgres", "redis", "llm-ledger")
ROLLOUTS = ("rolling", "canary", "blue-green")
SLA_TIERS = ("basic", "standard", "premium")
NAMESPACE_SUFFIXES: Mapping[str, str] = {
    "development": "dev",
    "staging": "staging",
    "production": "prod",
}
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
DEFAULT_REGISTRY = "registry.greenlang.io"
# The runtime's own defaults (GL_HTTP_PORT, GL_METRICS_PORT), used when the spec sets none.
DEFAULT_HTTP_PORT = 8000
DEFAULT_METRICS_PORT = 9090
DEFAULT_PROMETHEUS_URL = "http://prometheus-operated.monitoring.svc:9090"


@dataclass(frozen=True, slots=True)
class Resources:
    """Requests and limits of the agent container (Kubernetes quantities)."""

    cpu_request: str = "250m"
    cpu_limit: str = "1"
    memory_request: str = "256Mi"
    memory_limit: str = "512Mi"


@dataclass(frozen=True, slots=True)
class Scaling:
    """The HorizontalPodAutoscaler's bounds and per-pod targets."""

    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu_percent: int = 70
    target_memory_percent: int = 80
    target_requests_per_second: float = 50.0
    target_queue_depth: float = 5.0


@dataclass(frozen=True, slots=True)
class Slo:
    """The thresholds the alerts hold the agent to; defaults come from the SLA tier."""

    availability_percent: float
    p95_latency_seconds: float
    error_rate_percent: float


# availability %, p95 seconds, error rate % per SLA tier.
_TIER_SLOS: Mapping[str, Slo] = {
    "basic": Slo(99.0, 2.0, 5.0),
    "standard": Slo(99.9, 1.0, 1.0),
    "premium": Slo(99.99, 0.5, 0.5),
}


@dataclass(frozen=True, slots=True)
class Costs:
    """Unit prices of the cost recording rules, in USD (``[tool.greenlang-runtime.costs]``)."""

    cpu_hour_usd: float = 0.04
    memory_gib_hour_usd: float = 0.005
    storage_gib_month_usd: float = 0.10


@dataclass(frozen=True, slots=True)
class LLMBudget:
    """The LLM budget shared through Redis (``[tool.greenlang-runtime.llm-budget]``).

    Rendered into the ConfigMap as ``GL_LLM_BUDGET_USD``, ``_PERIOD`` and
    ``_SCOPE``; the Redis is the agent's ``REDIS_URL``.
    """

    usd: float
    period: str = "day"
    scope: str = "tenant"


@dataclass(frozen=True, slots=True)
class ArgoCD:
    """Where Argo CD finds ``deploy/``; one Application per environment."""

    repo_url: str
    path: str = "deploy"
    target_revision: str = "HEAD"
    project: str = "default"


def tier_slo(tier: str) -> Slo:
    """The default SLO thresholds of an SLA tier."""
    return _TIER_SLOS[tier]


def check_app(value: object, source: str = "pyproject.toml") -> str:
    """``value`` if it names what ``run`` serves as ``MODULE:ATTR``."""
    if not isinstance(value, str) or not _TARGET.fullmatch(value):
        raise SpecError(
            "app", value, "it must have the form MODULE:ATTR, e.g. my_agent.agent:runtime", source
        )
    return value
