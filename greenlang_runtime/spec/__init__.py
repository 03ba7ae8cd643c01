"""The agent spec: ``[tool.greenlang-runtime]`` of a project's pyproject.toml.

Its rules for a DNS-1123 label and a Kubernetes quantity are public too: the
scaffold names projects and the tenant render sums quotas by them.
"""

from __future__ import annotations

from greenlang_runtime.spec._model import (
    DEFAULT_HTTP_PORT,
    DEFAULT_METRICS_PORT,
    DEFAULT_PROMETHEUS_URL,
    DEFAULT_REGISTRY,
    DEPENDENCIES,
    LLM_PROVIDERS,
    NAMESPACE_SUFFIXES,
    ROLLOUTS,
    SLA_TIERS,
    TABLE,
    ArgoCD,
    Costs,
    LLMBudget,
    Resources,
    Scaling,
    Slo,
    check_app,
    tier_slo,
)
from greenlang_runtime.spec._project import (
    AgentSpec,
    EnvironmentSpec,
    load_spec,
    project_app,
    read_pyproject,
)
from greenlang_runtime.spec._rules import dns_label, quantity

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
    "AgentSpec",
    "ArgoCD",
    "Costs",
    "EnvironmentSpec",
    "LLMBudget",
    "Resources",
    "Scaling",
    "Slo",
    "check_app",
    "dns_label",
    "load_spec",
    "project_app",
    "quantity",
    "read_pyproject",
    "tier_slo",
]
