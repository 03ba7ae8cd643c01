"""ResourceQuota and LimitRange: objects of the tenant's namespace, rendered once per tenant.

A quota and a LimitRange constrain every pod of a namespace, so no agent owns
them: ``manifests --tenant`` renders them from every agent of the tenant at once
(sized for their sum), and no agent's own kustomization contains them. Their
names and labels name the tenant only, so two renders of one tenant never
disagree about what the objects are called or who they belong to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from greenlang_runtime.manifests._meta import MANAGED_BY, Document
from greenlang_runtime.spec import EnvironmentSpec, Resources
from greenlang_runtime.spec import quantity as parse_quantity

__all__ = ["LIMITS_NAME", "QUOTA_NAME", "limit_range", "resource_quota", "tenant_labels"]

QUOTA_NAME = "tenant-quota"
LIMITS_NAME = "tenant-limits"
# Per agent: its Service and preview Service, ConfigMaps (settings, dashboard,
# room for the author's), Secrets (connection strings, pull secret, certs).
_PER_AGENT = {"services": 10, "configmaps": 20, "secrets": 20}
_PLATFORM_DEFAULTS = Resources()


def tenant_labels(tenant: str) -> dict[str, str]:
    """Labels naming the tenant only: the same whichever agent's project is rendered."""
    return {"tenant-id": tenant, "app.kubernetes.io/managed-by": MANAGED_BY}


def _amount(value: str, resource: str) -> Decimal:
    return parse_quantity("", value, resource)[1]


def _format(total: Decimal, resource: str) -> str:
    if resource == "cpu":
        return f"{math.ceil(total * 1000)}m"
    return f"{math.ceil(total / Decimal(2**20))}Mi"


def _pods(env: EnvironmentSpec) -> int:
    # Room for the maximum replica count twice over: a blue-green or canary
    # rollout runs the old and the new set side by side at the peak.
    return 2 * env.scaling.max_replicas


def resource_quota(agents: Sequence[EnvironmentSpec]) -> Document:
    """The namespace's ceiling: every agent at its maximum scale during a rollout, summed."""
    hard: dict[str, str] = {"pods": str(sum(_pods(env) for env in agents))}
    for key, attribute in (
        ("requests.cpu", "cpu_request"),
        ("requests.memory", "memory_request"),
        ("limits.cpu", "cpu_limit"),
        ("limits.memory", "memory_limit"),
    ):
        resource = attribute.split("_")[0]
        total = sum(
            (_pods(env) * _amount(getattr(env.resources, attribute), resource) for env in agents),
            Decimal(0),
        )
        hard[key] = _format(total, resource)
    hard.update({key: str(count * len(agents)) for key, count in _PER_AGENT.items()})
    hard["persistentvolumeclaims"] = "0"
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": QUOTA_NAME, "labels": tenant_labels(agents[0].agent.tenant)},
        "spec": {"hard": hard},
    }


def limit_range(agents: Sequence[EnvironmentSpec]) -> Document:
    """The platform's defaults for containers without resources; the agents' largest as max."""
    ceiling = {}
    for resource in ("cpu", "memory"):
        limits = [getattr(env.resources, f"{resource}_limit") for env in agents]
        limits.append(getattr(_PLATFORM_DEFAULTS, f"{resource}_limit"))
        ceiling[resource] = max(limits, key=lambda value: _amount(value, resource))
    defaults = _PLATFORM_DEFAULTS
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": LIMITS_NAME, "labels": tenant_labels(agents[0].agent.tenant)},
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": defaults.cpu_limit, "memory": defaults.memory_limit},
                    "defaultRequest": {
                        "cpu": defaults.cpu_request,
                        "memory": defaults.memory_request,
                    },
                    "max": ceiling,
                }
            ]
        },
    }
