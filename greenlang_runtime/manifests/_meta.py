"""What every resource shares: names, the platform's labels and annotations, number formats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from greenlang_runtime.spec import AgentSpec, EnvironmentSpec

__all__ = [
    "CONTAINER",
    "MANAGED_BY",
    "Document",
    "labels",
    "metadata",
    "platform_annotations",
    "pod_labels",
    "pod_pattern",
    "quantity",
    "selector",
]

# One rendered Kubernetes object, as PyYAML writes it.
Document = dict[str, Any]

CONTAINER = "agent"
MANAGED_BY = "greenlang-runtime"


def selector(spec: AgentSpec) -> dict[str, str]:
    """The labels that pick the agent's pods: stable across versions, so updates roll."""
    return {"app": spec.agent_id}


def labels(spec: AgentSpec) -> dict[str, str]:
    """The platform's labels, on every object and every pod."""
    result = {
        "app": spec.agent_id,
        "version": spec.version,
        "agent-id": spec.agent_id,
        "lifecycle-state": spec.lifecycle_state,
        "tenant-id": spec.tenant,
        "app.kubernetes.io/name": spec.agent_id,
        "app.kubernetes.io/version": spec.version,
        "app.kubernetes.io/managed-by": MANAGED_BY,
    }
    if spec.data_residency:
        result["data-residency"] = spec.data_residency
    return result


def pod_labels(env: EnvironmentSpec) -> dict[str, str]:
    """The pods' labels: the platform's, plus the environment they run in."""
    return {**labels(env.agent), "environment": env.environment}


def pod_pattern(spec: AgentSpec) -> str:
    """A regex for the agent's pod names only: ``<agent-id>-<template hash>-<suffix>``.

    Exactly two segments after the id, so ``cbam-calculator`` never matches the
    pods of ``cbam-calculator-v2`` in the same namespace.
    """
    return f"{spec.agent_id}-[a-z0-9]+-[a-z0-9]+"


def platform_annotations(spec: AgentSpec) -> dict[str, str]:
    """The platform's ``greenlang.io/*`` annotations."""
    return {
        "greenlang.io/agent-id": spec.agent_id,
        "greenlang.io/version": spec.version,
        "greenlang.io/registry-url": spec.registry_entry,
    }


def metadata(spec: AgentSpec, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """``metadata`` of an object named ``name`` (default: the agent id); no namespace.

    The namespace is set by each overlay's kustomization, never in the base.
    """
    result: dict[str, Any] = {"name": name or spec.agent_id, "labels": labels(spec)}
    result.update(extra)
    return result


def quantity(value: float | Decimal) -> str:
    """``value`` as a Kubernetes quantity: whole numbers plain, fractions in milli-units."""
    amount = Decimal(str(value))
    if amount == amount.to_integral_value():
        return str(int(amount))
    milli = (amount * 1000).to_integral_value()
    return f"{int(milli)}m"
