"""The agent spec: ``[tool.greenlang-runtime]`` of a project's pyproject.toml.

One reader for every command: ``run`` takes its ``app`` from here, ``new``
checks the values it scaffolds with :meth:`AgentSpec.from_table`, and
``manifests`` renders Kubernetes resources from :meth:`AgentSpec.for_environment`.
Every error is a :class:`SpecError` whose one-line message names the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from greenlang_runtime.config import ENVIRONMENTS
from greenlang_runtime.exceptions import SpecError

__all__ = [
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
    "EnvironmentSpec",
    "Resources",
    "Scaling",
    "Slo",
    "check_app",
    "load_spec",
    "project_app",
    "read_pyproject",
    "tier_slo",
]

TABLE = "greenlang-runtime"
DEPENDENCIES = ("postgres", "redis")
LLM_PROVIDERS = ("anthropic", "openai")
ROLLOUTS = ("rolling", "canary", "blue-green")
SLA_TIERS = ("basic", "standard", "premium")
NAMESPACE_SUFFIXES: Mapping[str, str] = {
    "development": "dev",
    "staging": "staging",
    "production": "prod",
}
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
DEFAULT_REGISTRY = "registry.greenlang.io"
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
class ArgoCD:
    """Where Argo CD finds ``deploy/``; one Application per environment."""

    repo_url: str
    path: str = "deploy"
    target_revision: str = "HEAD"
    project: str = "default"


@dataclass(frozen=True, slots=True)
class EnvironmentSpec:
    """The spec as one environment sees it: per-environment overrides merged in."""

    agent: AgentSpec
    environment: str
    namespace: str
    resources: Resources
    scaling: Scaling
    image_digest: str

    @property
    def image(self) -> str:
        """The image reference: pinned by digest when one is set, else tagged with the version."""
        if self.image_digest:
            return f"{self.agent.image}@{self.image_digest}"
        return f"{self.agent.image}:{self.agent.version}"


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """The whole agent spec, checked; ``version`` is ``[project].version``."""

    name: str
    version: str
    tenant: str
    agent_id: str
    app: str | None = None
    lifecycle_state: str = "active"
    registry: str = DEFAULT_REGISTRY
    image: str = ""
    image_digest: str = ""
    registry_url: str = ""
    sla_tier: str = "standard"
    slo: Slo = _TIER_SLOS["standard"]
    data_residency: str = ""
    dependencies: tuple[str, ...] = ()
    llm_providers: tuple[str, ...] = ()
    rollout: str = "rolling"
    tenant_quota: bool = False
    node_pool: str = "agents"
    ingress_namespace: str = "ingress-nginx"
    monitoring_namespace: str = "monitoring"
    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    argocd: ArgoCD | None = None
    resources: Resources = field(default_factory=Resources)
    scaling: Scaling = field(default_factory=Scaling)
    environments: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @classmethod
    def from_table(
        cls,
        table: Mapping[str, object],
        *,
        name: str,
        version: str,
        source: str = "pyproject.toml",
    ) -> AgentSpec:
        """Check ``[tool.greenlang-runtime]`` and build the spec; errors name ``source``."""
        from greenlang_runtime._spec_table import parse_table

        try:
            spec = parse_table(table, name=name, version=version)
        except SpecError as error:
            raise SpecError(error.field, error.value, error.reason, source) from None
        return spec

    @property
    def registry_entry(self) -> str:
        """The agent's entry in the platform registry (``greenlang.io/registry-url``)."""
        base = self.registry_url or f"https://{self.registry.split('/')[0]}"
        return f"{base.rstrip('/')}/agents/{self.agent_id}/{self.version}"

    def namespace(self, environment: str) -> str:
        """The tenant's namespace for ``environment``: ``<tenant>-dev|staging|prod``."""
        return f"{self.tenant}-{NAMESPACE_SUFFIXES[environment]}"

    def for_environment(self, environment: str) -> EnvironmentSpec:
        """The spec for ``environment``, its overrides merged into the defaults."""
        if environment not in ENVIRONMENTS:
            raise SpecError(
                "environment", environment, f"it must be one of {', '.join(ENVIRONMENTS)}"
            )
        from greenlang_runtime._spec_table import merge_overrides

        overrides = self.environments.get(environment, {})
        resources, scaling, digest = merge_overrides(self, overrides, environment)
        return EnvironmentSpec(
            agent=self,
            environment=environment,
            namespace=self.namespace(environment),
            resources=resources,
            scaling=scaling,
            image_digest=digest,
        )


def tier_slo(tier: str) -> Slo:
    """The default SLO thresholds of an SLA tier."""
    return _TIER_SLOS[tier]


def read_pyproject(directory: Path) -> tuple[Mapping[str, object], str]:
    """The parsed ``directory/pyproject.toml`` and the path shown in errors."""
    path = directory / "pyproject.toml"
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError("", None, "there is no such file", source) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SpecError("", None, f"it cannot be read: {error}", source) from None
    return data, source


def _spec_table(data: Mapping[str, object], source: str) -> Mapping[str, object] | None:
    tool = data.get("tool", {})
    table = tool.get(TABLE) if isinstance(tool, Mapping) else None
    if table is not None and not isinstance(table, Mapping):
        raise SpecError("", None, f"[tool.{TABLE}] must be a table", source)
    return table


def project_app(directory: Path) -> str | None:
    """The checked ``app`` of the project in ``directory``, ``None`` when it sets none."""
    data, source = read_pyproject(directory)
    table = _spec_table(data, source)
    if table is None or "app" not in table:
        return None
    return check_app(table["app"], source)


def check_app(value: object, source: str = "pyproject.toml") -> str:
    """``value`` if it names what ``run`` serves as ``MODULE:ATTR``."""
    if not isinstance(value, str) or not _TARGET.fullmatch(value):
        raise SpecError(
            "app", value, "it must have the form MODULE:ATTR, e.g. my_agent.agent:runtime", source
        )
    return value


def load_spec(directory: Path) -> AgentSpec:
    """Read and check the agent spec of the project in ``directory``."""
    data, source = read_pyproject(directory)
    table = _spec_table(data, source)
    if table is None:
        raise SpecError("", None, f"it has no [tool.{TABLE}] table", source)
    project = data.get("project", {})
    if not isinstance(project, Mapping):
        raise SpecError("", None, "[project] must be a table", source)
    name, version = project.get("name"), project.get("version")
    if not isinstance(name, str) or not name:
        raise SpecError("", None, "[project] sets no name", source)
    if not isinstance(version, str) or not version:
        raise SpecError(
            "", None, "[project] sets no version (the agent's version label needs one)", source
        )
    return AgentSpec.from_table(table, name=name, version=version, source=source)
