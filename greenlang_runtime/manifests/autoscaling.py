"""HorizontalPodAutoscaler, VerticalPodAutoscaler and PodDisruptionBudget."""

from __future__ import annotations

from greenlang_runtime import metric_names
from greenlang_runtime.manifests._meta import CONTAINER, Document, metadata, quantity, selector
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["REQUEST_RATE_METRIC", "hpa", "pdb", "scale_target", "vpa"]

# The per-pod request rate prometheus-adapter serves from agent_requests_total.
REQUEST_RATE_METRIC = "agent_requests_per_second"


def scale_target(env: EnvironmentSpec) -> Document:
    """What the autoscalers act on: the Deployment, or the Argo Rollout that replaces it."""
    if env.agent.rollout == "rolling":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "name": env.agent.agent_id}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": env.agent.agent_id}


def hpa(env: EnvironmentSpec) -> Document:
    """autoscaling/v2 on CPU, memory, request rate and queue depth, with damped scale-down."""
    scaling = env.scaling
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(env.agent),
        "spec": {
            "scaleTargetRef": scale_target(env),
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": [
                _resource("cpu", scaling.target_cpu_percent),
                _resource("memory", scaling.target_memory_percent),
                _pods(REQUEST_RATE_METRIC, scaling.target_requests_per_second),
                _pods(metric_names.QUEUE_DEPTH, scaling.target_queue_depth),
            ],
            "behavior": {
                # Up at once, doubling or adding 4 pods per 30 s, whichever is more.
                "scaleUp": {
                    "stabilizationWindowSeconds": 0,
                    "selectPolicy": "Max",
                    "policies": [
                        {"type": "Percent", "value": 100, "periodSeconds": 30},
                        {"type": "Pods", "value": 4, "periodSeconds": 30},
                    ],
                },
                # Down only after 5 minutes of lower load, at most half or 2 pods a minute.
                "scaleDown": {
                    "stabilizationWindowSeconds": 300,
                    "selectPolicy": "Min",
                    "policies": [
                        {"type": "Percent", "value": 50, "periodSeconds": 60},
                        {"type": "Pods", "value": 2, "periodSeconds": 60},
                    ],
                },
            },
        },
    }


def _resource(name: str, percent: int) -> Document:
    return {
        "type": "Resource",
        "resource": {
            "name": name,
            "target": {"type": "Utilization", "averageUtilization": percent},
        },
    }


def _pods(name: str, per_pod: float) -> Document:
    return {
        "type": "Pods",
        "pods": {
            "metric": {"name": name},
            "target": {"type": "AverageValue", "averageValue": quantity(per_pod)},
        },
    }


def vpa(env: EnvironmentSpec) -> Document:
    """Recommendations only (``updateMode: Off``): the HPA owns the replica count."""
    return {
        "apiVersion": "autoscaling.k8s.io/v1",
        "kind": "VerticalPodAutoscaler",
        "metadata": metadata(env.agent),
        "spec": {
            "targetRef": scale_target(env),
            "updatePolicy": {"updateMode": "Off"},
            "resourcePolicy": {
                "containerPolicies": [
                    {"containerName": CONTAINER, "controlledResources": ["cpu", "memory"]},
                    {"containerName": "wait-for-dependencies", "mode": "Off"},
                ]
            },
        },
    }


def pdb(env: EnvironmentSpec) -> Document:
    """One pod down at a time; pods that are not ready can always be evicted."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(env.agent),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector(env.agent)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
