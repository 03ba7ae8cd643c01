"""The agent spec: ``[tool.greenlang-runtime]`` of a project's pyproject.toml.

One reader for every command: ``run`` takes its ``app`` from here, ``new``
checks the values it scaffolds with :meth:`AgentSpec.from_table`, and
``manifests`` renders Kubernetes resources from :meth:`AgentSpec.for_environment`.
Every error is a :class:`SpecError` whose one-line message names the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from greenlang_runtime.config import ENVIRONMENTS
from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.spec._model import (
    DEFAULT_HTTP_PORT,
    DEFAULT_METRICS_PORT,
    DEFAULT_PROMETHEUS_URL,
    DEFAULT_REGISTRY,
    NAMESPACE_SUFFIXES,
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
from greenlang_runtime.spec._table import merge_overrides, parse_table

__all__ = ["AgentSpec", "EnvironmentSpec", "load_spec", "project_app", "read_pyproject"]


_STANDARD_SLO = tier_slo("standard")


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
    slo: Slo = _STANDARD_SLO
    data_residency: str = ""
    dependencies: tuple[str, ...] = ()
    llm_providers: tuple[str, ...] = ()
    rollout: str = "rolling"
    tenant_quota: bool = False
    http_port: int = DEFAULT_HTTP_PORT
    metrics_port: int = DEFAULT_METRICS_PORT
    node_pool: str = "agents"
    ingress_namespace: str = "ingress-nginx"
    monitoring_namespace: str = "monitoring"
    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    argocd: ArgoCD | None = None
    costs: Costs = field(default_factory=Costs)
    llm_budget: LLMBudget | None = None
    workers: int | str = 1
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
        try:
            return cls(**parse_table(table, name=name, version=version))
        except SpecError as error:
            raise SpecError(error.field, error.value, error.reason, source) from None

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
        overrides = self.environments.get(environment, {})
        resources, scaling, digest = merge_overrides(
            self.resources, self.scaling, self.image_digest, overrides, environment
        )
        return EnvironmentSpec(
            agent=self,
            environment=environment,
            namespace=self.namespace(environment),
            resources=resources,
            scaling=scaling,
            image_digest=digest,
        )


def read_pyproject(directory: Path) -> tuple[Mapping[str, object], str]:
    """The parsed ``directory/pyproject.toml`` and the path shown in errors."""
    path = directory / "pyproject.toml"
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(
            "", None, f"there is no such file in {directory.absolute()}", path.name
        ) from None
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
