"""The NetworkPolicy: who may reach the agent, and what the agent may reach."""

from __future__ import annotations

from greenlang_runtime.manifests._meta import Document, metadata, selector
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["DEPENDENCY_PORTS", "network_policy"]

DEPENDENCY_PORTS = {"postgres": 5432, "redis": 6379, "llm-ledger": 5432}
_HTTPS = 443
_NAMESPACE_LABEL = "kubernetes.io/metadata.name"


def network_policy(env: EnvironmentSpec) -> Document:
    """Ingress: controller and same namespace on HTTP, monitoring on metrics; egress: deps."""
    spec = env.agent
    http = _ports(spec.http_port)
    ingress = [
        {"from": [_namespace(spec.ingress_namespace)], "ports": http},
        {"from": [{"podSelector": {}}], "ports": http},
        {"from": [_namespace(spec.monitoring_namespace)], "ports": _ports(spec.metrics_port)},
    ]
    egress: list[Document] = [
        {
            "to": [
                {
                    **_namespace("kube-system"),
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ]
    # Managed databases and LLM APIs live outside the cluster at addresses a
    # NetworkPolicy cannot name: egress is opened by port only.
    # postgres and llm-ledger share a port: each port is opened once.
    for port in sorted({DEPENDENCY_PORTS[dependency] for dependency in spec.dependencies}):
        egress.append({"ports": _ports(port)})
    if spec.llm_providers:
        egress.append({"ports": _ports(_HTTPS)})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(spec),
        "spec": {
            "podSelector": {"matchLabels": selector(spec)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def _namespace(name: str) -> Document:
    return {"namespaceSelector": {"matchLabels": {_NAMESPACE_LABEL: name}}}


def _ports(port: int) -> list[Document]:
    return [{"protocol": "TCP", "port": port}]
