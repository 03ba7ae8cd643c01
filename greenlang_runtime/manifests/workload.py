"""The Deployment (or the Argo Rollout's pod template): probes, drain, hardening, placement.

Ports, probe paths and the shutdown timings come from :mod:`greenlang_runtime.config`,
so the pod asks of the runtime exactly what the runtime does.
"""

from __future__ import annotations

import math
from typing import Any

from greenlang_runtime.config import (
    DATABASE_URL_VARIABLE,
    GRACE_MARGIN_SECONDS,
    LIVE_PATH,
    LLM_API_KEYS,
    METRICS_PATH,
    READY_PATH,
    REDIS_URL_VARIABLE,
    RUN_AS_UID,
    STARTUP_PATH,
    Settings,
    env_name,
)
from greenlang_runtime.manifests._meta import (
    CONTAINER,
    Document,
    metadata,
    platform_annotations,
    pod_labels,
    selector,
)
from greenlang_runtime.spec import EnvironmentSpec

__all__ = [
    "CONFIG_MOUNT",
    "SECRET_KEYS",
    "checkov_skips",
    "config_name",
    "deployment",
    "grace_period_seconds",
    "pod_template",
    "runtime_settings",
    "secret_name",
]

CONFIG_MOUNT = "/etc/greenlang-runtime"
# The Secret's keys and the variables the runtime reads them from.
SECRET_KEYS = {
    "postgres": (DATABASE_URL_VARIABLE, "database-url"),
    "redis": (REDIS_URL_VARIABLE, "redis-url"),
    "llm-ledger": (env_name("llm_ledger_url"), "llm-ledger-url"),
    **LLM_API_KEYS,
}
# The runtime knobs the ConfigMap sets, so the pod and the grace period agree.
_CONFIGURED = (
    "http_port",
    "metrics_port",
    "prestop_delay_seconds",
    "drain_timeout_seconds",
    "shutdown_hooks_timeout_seconds",
)
_WAIT_TIMEOUT_SECONDS = 300
_DEFAULTS = Settings()


def secret_name(env: EnvironmentSpec) -> str:
    """The Secret holding the connection strings and provider keys."""
    return f"{env.agent.agent_id}-secrets"


def config_name(env: EnvironmentSpec) -> str:
    """The ConfigMap holding the runtime's ``GL_*`` knobs."""
    return f"{env.agent.agent_id}-config"


def runtime_settings(env: EnvironmentSpec) -> dict[str, str]:
    """The ``GL_*`` variables the ConfigMap sets: the spec's ports, the runtime's timings."""
    ports = {"http_port": env.agent.http_port, "metrics_port": env.agent.metrics_port}
    settings = {
        env_name(name): _plain(ports.get(name, getattr(_DEFAULTS, name))) for name in _CONFIGURED
    }
    budget = env.agent.llm_budget
    if budget is not None:
        # Shared through the REDIS_URL of the agent's Secret (the spec requires redis).
        settings[env_name("llm_budget_usd")] = _plain(budget.usd)
        settings[env_name("llm_budget_period")] = budget.period
        settings[env_name("llm_budget_scope")] = budget.scope
    if env.agent.workers != 1:
        # Worker processes in each pod; the HPA's CPU target is still per pod (the cgroup).
        settings[env_name("workers")] = str(env.agent.workers)
    return settings


def grace_period_seconds() -> int:
    """Pre-stop delay + drain + shutdown hooks + margin, rounded up to whole seconds."""
    return math.ceil(_DEFAULTS.termination_grace_seconds + GRACE_MARGIN_SECONDS)


def checkov_skips(env: EnvironmentSpec) -> dict[str, str]:
    """checkov's skip annotations, each with its reason, for what is so on purpose."""
    reasons = []
    if env.agent.dependencies or env.agent.llm_providers:
        reasons.append(
            f"CKV_K8S_35=The runtime reads {DATABASE_URL_VARIABLE}, {REDIS_URL_VARIABLE}, "
            f"{env_name('llm_ledger_url')} and the LLM provider keys from its environment "
            "(the platform's contract); they come from a Secret by secretKeyRef, never as "
            "literal values."
        )
    if not env.image_digest:
        reasons.append(
            f"CKV_K8S_43=The image is tagged with the version ({env.agent.version}) because "
            f"image-digest is not set for {env.environment} in [tool.greenlang-runtime]; "
            "set it to pin the image by digest."
        )
    return {f"checkov.io/skip{i}": reason for i, reason in enumerate(reasons, start=1)}


def deployment(env: EnvironmentSpec) -> Document:
    """The Deployment; ``replicas`` is left to the HorizontalPodAutoscaler."""
    spec = env.agent
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(
            spec, annotations={**platform_annotations(spec), **checkov_skips(env)}
        ),
        "spec": {
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "selector": {"matchLabels": selector(spec)},
            "template": pod_template(env),
        },
    }


def pod_template(env: EnvironmentSpec) -> Document:
    """The agent's pod: an init container that waits for dependencies, then the agent."""
    spec = env.agent
    pod_annotations = {
        **platform_annotations(spec),
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(spec.metrics_port),
        "prometheus.io/path": METRICS_PATH,
    }
    pod: dict[str, Any] = {
        "serviceAccountName": spec.agent_id,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": grace_period_seconds(),
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_UID,
            "runAsGroup": RUN_AS_UID,
            "fsGroup": RUN_AS_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": [_wait_container(env)],
        "containers": [_agent_container(env)],
        "volumes": [
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            {"name": "config", "configMap": {"name": config_name(env)}},
        ],
        "affinity": _anti_affinity(env),
    }
    if spec.node_pool:
        pod["nodeSelector"] = {"workload-type": spec.node_pool}
        pod["tolerations"] = [
            {
                "key": "workload-type",
                "operator": "Equal",
                "value": spec.node_pool,
                "effect": "NoSchedule",
            }
        ]
    return {
        "metadata": {"labels": pod_labels(env), "annotations": pod_annotations},
        "spec": pod,
    }


def _agent_container(env: EnvironmentSpec) -> Document:
    return {
        "name": CONTAINER,
        "image": env.image,
        "imagePullPolicy": "Always",
        "ports": [
            {"name": "http", "containerPort": env.agent.http_port, "protocol": "TCP"},
            {"name": "metrics", "containerPort": env.agent.metrics_port, "protocol": "TCP"},
        ],
        "env": _environment(env),
        "envFrom": [{"configMapRef": {"name": config_name(env)}}],
        "resources": _resources(env),
        # Startup allows 5 minutes of on_startup hooks; readiness reacts within
        # 10 s; liveness, which never looks at dependencies, restarts only after
        # 30 s of a stalled loop, so a slow dependency never restarts the pod.
        "startupProbe": _probe(STARTUP_PATH, period=5, timeout=3, failures=60),
        "readinessProbe": _probe(READY_PATH, period=5, timeout=3, failures=2),
        "livenessProbe": _probe(LIVE_PATH, period=10, timeout=5, failures=3),
        "securityContext": _container_security(),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, not the image's
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
        ],
    }


def _wait_container(env: EnvironmentSpec) -> Document:
    command = [
        "greenlang-runtime",
        "wait-for-dependencies",
        "--timeout",
        str(_WAIT_TIMEOUT_SECONDS),
    ]
    if env.agent.app:
        command += ["--app", env.agent.app]
    return {
        "name": "wait-for-dependencies",
        "image": env.image,
        "imagePullPolicy": "Always",
        "command": command,
        "env": _environment(env),
        "envFrom": [{"configMapRef": {"name": config_name(env)}}],
        "resources": _resources(env),
        "securityContext": _container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - an emptyDir
    }


def _environment(env: EnvironmentSpec) -> list[Document]:
    spec = env.agent
    variables: list[Document] = [
        {"name": "AGENT_ID", "value": spec.agent_id},
        {"name": "AGENT_VERSION", "value": spec.version},
        {"name": "TENANT_ID", "value": spec.tenant},
        {"name": "ENVIRONMENT", "value": env.environment},
        {"name": "AGENT_LIFECYCLE_STATE", "value": spec.lifecycle_state},
    ]
    for item in (*spec.dependencies, *spec.llm_providers):
        variable, key = SECRET_KEYS[item]
        variables.append(
            {
                "name": variable,
                "valueFrom": {"secretKeyRef": {"name": secret_name(env), "key": key}},
            }
        )
    return variables


def _resources(env: EnvironmentSpec) -> Document:
    res = env.resources
    return {
        "requests": {"cpu": res.cpu_request, "memory": res.memory_request},
        "limits": {"cpu": res.cpu_limit, "memory": res.memory_limit},
    }


def _probe(path: str, *, period: int, timeout: int, failures: int) -> Document:
    return {
        "httpGet": {"path": path, "port": "http", "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
        "successThreshold": 1,
    }


def _container_security() -> Document:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_UID,
        "runAsGroup": RUN_AS_UID,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _anti_affinity(env: EnvironmentSpec) -> Document:
    # Preferred, not required: a small cluster (or one zone) still schedules
    # every replica, spread across zones first and hosts second.
    match = {"labelSelector": {"matchLabels": selector(env.agent)}}
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {**match, "topologyKey": "topology.kubernetes.io/zone"},
                },
                {
                    "weight": 50,
                    "podAffinityTerm": {**match, "topologyKey": "kubernetes.io/hostname"},
                },
            ]
        }
    }


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
