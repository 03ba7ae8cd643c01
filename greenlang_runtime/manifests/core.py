"""The Service, ServiceAccount and ConfigMap the agent's pods use."""

from __future__ import annotations

from greenlang_runtime.manifests._meta import Document, metadata, selector
from greenlang_runtime.manifests.workload import config_name, runtime_settings
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["config_map", "preview_service", "service", "service_account"]


def service(env: EnvironmentSpec, name: str | None = None) -> Document:
    """The ClusterIP Service: port 80 to the HTTP listener, and the metrics port."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(env.agent, name),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(env.agent),
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {
                    "name": "metrics",
                    "port": env.agent.metrics_port,
                    "targetPort": "metrics",
                    "protocol": "TCP",
                },
            ],
        },
    }


def preview_service(env: EnvironmentSpec) -> Document:
    """The blue-green preview Service: the new version before promotion."""
    return service(env, f"{env.agent.agent_id}-preview")


def service_account(env: EnvironmentSpec) -> Document:
    """The pods' own ServiceAccount, whose token is never mounted."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(env.agent),
        "automountServiceAccountToken": False,
    }


def config_map(env: EnvironmentSpec) -> Document:
    """The runtime's knobs, read as ``GL_*`` variables and mounted read-only."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(env.agent, config_name(env)),
        "data": runtime_settings(env),
    }
