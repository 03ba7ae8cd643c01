"""ResourceQuota and LimitRange for the tenant's namespace (``tenant-quota = true``)."""

from __future__ import annotations

import math
from decimal import Decimal

from greenlang_runtime._spec_rules import quantity as parse_quantity
from greenlang_runtime.manifests._meta import Document, metadata
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["limit_range", "resource_quota"]


def _pods(env: EnvironmentSpec) -> int:
    # Room for the maximum replica count twice over: a blue-green or canary
    # rollout runs the old and the new set side by side at the peak.
    return 2 * env.scaling.max_replicas


def _times(count: int, value: str, resource: str) -> str:
    _, amount = parse_quantity("", value, resource)
    total = amount * count
    if resource == "cpu":
        return f"{math.ceil(total * 1000)}m"
    return f"{math.ceil(total / Decimal(2**20))}Mi"


def resource_quota(env: EnvironmentSpec) -> Document:
    """The namespace's ceiling, sized for this agent at its maximum scale during a rollout."""
    pods = _pods(env)
    res = env.resources
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(env.agent, "tenant-quota"),
        "spec": {
            "hard": {
                "pods": str(pods),
                "requests.cpu": _times(pods, res.cpu_request, "cpu"),
                "requests.memory": _times(pods, res.memory_request, "memory"),
                "limits.cpu": _times(pods, res.cpu_limit, "cpu"),
                "limits.memory": _times(pods, res.memory_limit, "memory"),
                "services": "10",
                "configmaps": "20",
                "secrets": "20",
                "persistentvolumeclaims": "0",
            }
        },
    }


def limit_range(env: EnvironmentSpec) -> Document:
    """Defaults for containers that set no resources: the agent's own requests and limits."""
    res = env.resources
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(env.agent, "tenant-limits"),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "default": {"cpu": res.cpu_limit, "memory": res.memory_limit},
                    "defaultRequest": {"cpu": res.cpu_request, "memory": res.memory_request},
                    "max": {"cpu": res.cpu_limit, "memory": res.memory_limit},
                }
            ]
        },
    }
