"""Turning the TOML table into an :class:`~greenlang_runtime.spec.AgentSpec`, key by key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import greenlang_runtime.spec._model as _spec
import greenlang_runtime.spec._rules as rules
from greenlang_runtime.config import ENVIRONMENTS
from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.metric_names import REQUEST_DURATION_BUCKETS

__all__ = ["merge_overrides", "parse_table"]

_RESOURCE_KEYS = ("cpu-request", "cpu-limit", "memory-request", "memory-limit")
_SCALING_KEYS = (
    "min-replicas",
    "max-replicas",
    "target-cpu-percent",
    "target-memory-percent",
    "target-requests-per-second",
    "target-queue-depth",
)
_OVERRIDE_KEYS = (*_RESOURCE_KEYS, *_SCALING_KEYS, "image-digest")
_SLO_KEYS = ("availability-percent", "p95-latency-seconds", "error-rate-percent")
_COST_KEYS = ("cpu-hour-usd", "memory-gib-hour-usd", "storage-gib-month-usd")
_BUDGET_KEYS = ("usd", "period", "scope")
_ARGOCD_KEYS = ("repo-url", "path", "target-revision", "project")
_KEYS = (
    "app",
    "agent-id",
    "tenant",
    "lifecycle-state",
    "registry",
    "registry-url",
    "image",
    "image-digest",
    "sla-tier",
    "slo",
    "data-residency",
    "dependencies",
    "llm-providers",
    "rollout",
    "tenant-quota",
    "http-port",
    "metrics-port",
    "node-pool",
    "ingress-namespace",
    "monitoring-namespace",
    "prometheus-url",
    "argocd",
    "costs",
    "llm-budget",
    "workers",
    "resources",
    "scaling",
    "environments",
)
_MAX_REPLICAS = 1000
_MAX_WORKERS = 64
_MAX_PORT = 65535
_IMAGE = re.compile(r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_GIT_URL = re.compile(r"(https://|ssh://|git@)\S+")
# The longest suffix (-staging) must still leave a DNS label for the namespace.
_TENANT_MAX = 63 - len("-staging")
# The latency SLI counts requests past a bucket bound; none is past the largest.
_LARGEST_BUCKET = REQUEST_DURATION_BUCKETS[-1]
# The availability alert fires at 14.4 times the error budget: below 100 - 100/14.4
# (about 93 %) it could never fire.
_MIN_AVAILABILITY = 95.0


def parse_table(table: Mapping[str, object], *, name: str, version: str) -> dict[str, Any]:
    """Check every key of ``[tool.greenlang-runtime]``; return the spec's fields.

    The keys are checked in the order the fields are listed, so the first
    bad value is the one reported.
    """
    rules.table("", table, _KEYS)
    _project_version(version)
    who = _who(table, name)
    registry = _image_path("registry", table.get("registry", _spec.DEFAULT_REGISTRY))
    tier = rules.choice("sla-tier", table.get("sla-tier", "standard"), _spec.SLA_TIERS)
    environments = rules.table("environments", table.get("environments", {}), ENVIRONMENTS)
    overrides = {
        environment: rules.table(f"environments.{environment}", values, _OVERRIDE_KEYS)
        for environment, values in environments.items()
    }
    resources = rules.table("resources", table.get("resources", {}), _RESOURCE_KEYS)
    scaling = rules.table("scaling", table.get("scaling", {}), _SCALING_KEYS)
    fields: dict[str, Any] = {
        "name": name,
        "version": version,
        **who,
        "app": _spec.check_app(table["app"]) if "app" in table else None,
        "lifecycle_state": rules.label_value(
            "lifecycle-state", table.get("lifecycle-state", "active")
        ),
        **_image(table, registry, who),
        "sla_tier": tier,
        "slo": _slo(table.get("slo", {}), _spec.tier_slo(tier)),
        **_choices(table),
        **_ports(table),
        **_cluster(table),
        "argocd": _argocd(table["argocd"]) if "argocd" in table else None,
        "costs": _costs(table.get("costs", {})),
        "llm_budget": _llm_budget(table),
        "workers": _workers(table.get("workers", 1)),
        "resources": _resources("resources", resources, _spec.Resources()),
        "scaling": _scaling("scaling", scaling, _spec.Scaling()),
        "environments": overrides,
    }
    for environment, values in overrides.items():
        merge_overrides(
            fields["resources"], fields["scaling"], fields["image_digest"], values, environment
        )
    return fields


def _who(table: Mapping[str, object], name: str) -> dict[str, str]:
    """The agent id (from the project name by default) and the required tenant."""
    agent_id = rules.dns_label("agent-id", table.get("agent-id", _default_id(name)))
    if "tenant" not in table:
        raise SpecError("tenant", None, "it is required: the tenant's DNS-1123 label")
    tenant = rules.dns_label("tenant", table["tenant"], _TENANT_MAX)
    return {"agent_id": agent_id, "tenant": tenant}


def _image(table: Mapping[str, object], registry: str, who: Mapping[str, str]) -> dict[str, str]:
    """Where the image is pushed and pulled from: registry, path, digest, registry URL."""
    image = table.get("image", f"{registry}/{who['tenant']}/{who['agent_id']}")
    return {
        "registry": registry,
        "image": _image_path("image", image),
        "image_digest": _digest("image-digest", table.get("image-digest", "")),
        "registry_url": _url("registry-url", table.get("registry-url", ""), "https://"),
    }


def _choices(table: Mapping[str, object]) -> dict[str, Any]:
    """Residency, dependencies, providers, rollout and quota: each from its fixed set."""
    return {
        "data_residency": rules.label_value(
            "data-residency", table.get("data-residency", ""), empty=True
        ),
        "dependencies": rules.subset(
            "dependencies", table.get("dependencies", []), _spec.DEPENDENCIES
        ),
        "llm_providers": rules.subset(
            "llm-providers", table.get("llm-providers", []), _spec.LLM_PROVIDERS
        ),
        "rollout": rules.choice("rollout", table.get("rollout", "rolling"), _spec.ROLLOUTS),
        "tenant_quota": rules.flag("tenant-quota", table.get("tenant-quota", False)),
    }


def _cluster(table: Mapping[str, object]) -> dict[str, str]:
    """What the cluster around the agent is called: node pool, namespaces, Prometheus."""
    return {
        "node_pool": rules.label_value("node-pool", table.get("node-pool", "agents"), empty=True),
        "ingress_namespace": rules.dns_label(
            "ingress-namespace", table.get("ingress-namespace", "ingress-nginx")
        ),
        "monitoring_namespace": rules.dns_label(
            "monitoring-namespace", table.get("monitoring-namespace", "monitoring")
        ),
        "prometheus_url": _url(
            "prometheus-url",
            table.get("prometheus-url", _spec.DEFAULT_PROMETHEUS_URL),
            "http://",
            "https://",
        ),
    }


def merge_overrides(
    resources: _spec.Resources,
    scaling: _spec.Scaling,
    digest: str,
    overrides: Mapping[str, object],
    environment: str,
) -> tuple[_spec.Resources, _spec.Scaling, str]:
    """The resources, scaling and image digest of ``environment``, checked after merging."""
    prefix = f"environments.{environment}"
    return (
        _resources(prefix, overrides, resources),
        _scaling(prefix, overrides, scaling),
        _digest(f"{prefix}.image-digest", overrides.get("image-digest", digest)),
    )


def _ports(table: Mapping[str, object]) -> dict[str, int]:
    http = rules.whole("http-port", table.get("http-port", _spec.DEFAULT_HTTP_PORT), 1, _MAX_PORT)
    metrics = rules.whole(
        "metrics-port", table.get("metrics-port", _spec.DEFAULT_METRICS_PORT), 1, _MAX_PORT
    )
    if http == metrics:
        # Both listeners bind every address of the pod: one port cannot serve both.
        raise SpecError("metrics-port", metrics, f"it must differ from http-port ({http})")
    return {"http_port": http, "metrics_port": metrics}


def _default_id(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _project_version(version: str) -> None:
    try:
        rules.label_value("version", version)
    except SpecError as error:
        raise SpecError(
            "", None, f"[project] version={version!r} is invalid: {error.reason}"
        ) from None


def _image_path(field: str, value: object) -> str:
    path = rules.text(field, value)
    if not _IMAGE.fullmatch(path):
        raise SpecError(
            field,
            value,
            "it must be an image repository such as registry.example.com/team/agent "
            "(lowercase, no tag or digest)",
        )
    return path


def _digest(field: str, value: object) -> str:
    digest = rules.text(field, value)
    if digest and not _DIGEST.fullmatch(digest):
        raise SpecError(field, value, "it must be empty or sha256: followed by 64 hex digits")
    return digest


def _url(field: str, value: object, *schemes: str) -> str:
    url = rules.text(field, value)
    if url and not (url.startswith(schemes) and " " not in url and "://" in url[:9]):
        raise SpecError(field, value, f"it must be a URL starting with {' or '.join(schemes)}")
    if url and not url.split("://", 1)[1].split("/")[0]:
        raise SpecError(field, value, "it names no host")
    return url


def _slo(value: object, default: _spec.Slo) -> _spec.Slo:
    table = rules.table("slo", value, _SLO_KEYS)
    given = table.get("availability-percent", default.availability_percent)
    availability = rules.number("slo.availability-percent", given, 0, 100)
    if not _MIN_AVAILABILITY <= availability < 100:
        raise SpecError(
            "slo.availability-percent",
            given,
            f"it must be at least {_MIN_AVAILABILITY:g} and below 100 (100 leaves no error budget)",
        )
    given = table.get("p95-latency-seconds", default.p95_latency_seconds)
    latency = rules.number("slo.p95-latency-seconds", given, 0, _LARGEST_BUCKET)
    if latency not in REQUEST_DURATION_BUCKETS:
        # The latency SLI is read at this bound of the histogram: no other value is measurable.
        raise SpecError(
            "slo.p95-latency-seconds",
            given,
            "it must be a bucket bound of agent_request_duration_seconds: "
            + ", ".join(f"{b:g}" for b in REQUEST_DURATION_BUCKETS),
        )
    errors = rules.number(
        "slo.error-rate-percent",
        table.get("error-rate-percent", default.error_rate_percent),
        0,
        100,
    )
    if errors == 100:
        raise SpecError("slo.error-rate-percent", errors, "it must be below 100")
    return _spec.Slo(availability, latency, errors)


def _costs(value: object) -> _spec.Costs:
    table = rules.table("costs", value, _COST_KEYS)
    default = _spec.Costs()
    prices = {
        key.replace("-", "_"): rules.number(
            f"costs.{key}", table.get(key, getattr(default, key.replace("-", "_"))), 0, 1e6
        )
        for key in _COST_KEYS
    }
    return _spec.Costs(**prices)


def _workers(value: object) -> int | str:
    """``workers``: a whole number of worker processes from 1 to 64, or ``auto``."""
    if value == "auto" or (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_WORKERS
    ):
        return value
    raise SpecError(
        "workers", value, f'it must be a whole number from 1 to {_MAX_WORKERS}, or "auto"'
    )


def _llm_budget(table: Mapping[str, object]) -> _spec.LLMBudget | None:
    if "llm-budget" not in table:
        return None
    budget = rules.table("llm-budget", table["llm-budget"], _BUDGET_KEYS)
    if "usd" not in budget:
        raise SpecError("llm-budget.usd", None, "it is required: the budget of one period in USD")
    dependencies = table.get("dependencies", [])
    if not isinstance(dependencies, list) or "redis" not in dependencies:
        raise SpecError(
            "llm-budget",
            dict(budget),
            'a budget is shared through Redis: add "redis" to dependencies '
            "(its REDIS_URL comes from the agent's Secret)",
        )
    return _spec.LLMBudget(
        usd=rules.number("llm-budget.usd", budget["usd"], 0, 1e6),
        period=rules.choice("llm-budget.period", budget.get("period", "day"), ("day", "month")),
        scope=rules.choice("llm-budget.scope", budget.get("scope", "tenant"), ("tenant", "agent")),
    )


def _argocd(value: object) -> _spec.ArgoCD:
    table = rules.table("argocd", value, _ARGOCD_KEYS)
    if "repo-url" not in table:
        raise SpecError("argocd.repo-url", None, "it is required when argocd is set")
    repo = rules.text("argocd.repo-url", table["repo-url"])
    if not _GIT_URL.fullmatch(repo):
        raise SpecError("argocd.repo-url", repo, "it must be a Git URL (https://, ssh:// or git@)")
    path = rules.text("argocd.path", table.get("path", "deploy")).strip("/")
    if not path or path.startswith(".") or ".." in path.split("/") or " " in path:
        raise SpecError(
            "argocd.path", table.get("path"), "it must be a relative path inside the repository"
        )
    revision = rules.text("argocd.target-revision", table.get("target-revision", "HEAD"))
    if not revision or any(c.isspace() for c in revision):
        raise SpecError("argocd.target-revision", revision, "it must be a branch, tag or commit")
    project = rules.dns_label("argocd.project", table.get("project", "default"))
    return _spec.ArgoCD(repo, path, revision, project)


def _resources(
    prefix: str, table: Mapping[str, object], default: _spec.Resources
) -> _spec.Resources:
    values: dict[str, tuple[str, Decimal]] = {}
    for key in _RESOURCE_KEYS:
        attr = key.replace("-", "_")
        raw = table.get(key, getattr(default, attr))
        values[attr] = rules.quantity(f"{prefix}.{key}", raw, key.split("-")[0])
    for resource in ("cpu", "memory"):
        request, limit = values[f"{resource}_request"], values[f"{resource}_limit"]
        if limit[1] < request[1]:
            raise SpecError(
                f"{prefix}.{resource}-limit",
                limit[0],
                f"it must be at least {resource}-request ({request[0]})",
            )
    return _spec.Resources(**{attr: given for attr, (given, _) in values.items()})


def _scaling(prefix: str, table: Mapping[str, object], default: _spec.Scaling) -> _spec.Scaling:
    def get(key: str) -> object:
        return table.get(key, getattr(default, key.replace("-", "_")))

    low = rules.whole(f"{prefix}.min-replicas", get("min-replicas"), 1, _MAX_REPLICAS)
    high = rules.whole(f"{prefix}.max-replicas", get("max-replicas"), 1, _MAX_REPLICAS)
    if low > high:
        raise SpecError(f"{prefix}.min-replicas", low, f"it must be at most max-replicas ({high})")
    return _spec.Scaling(
        min_replicas=low,
        max_replicas=high,
        target_cpu_percent=rules.whole(
            f"{prefix}.target-cpu-percent", get("target-cpu-percent"), 1, 100
        ),
        target_memory_percent=rules.whole(
            f"{prefix}.target-memory-percent", get("target-memory-percent"), 1, 100
        ),
        target_requests_per_second=rules.number(
            f"{prefix}.target-requests-per-second", get("target-requests-per-second"), 0, 1e6
        ),
        target_queue_depth=rules.number(
            f"{prefix}.target-queue-depth", get("target-queue-depth"), 0, 1e6
        ),
    )
