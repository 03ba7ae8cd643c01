"""The Grafana dashboard, as a ConfigMap for Grafana's dashboard sidecar."""

from __future__ import annotations

import json
from typing import Any

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._meta import CONTAINER, Document, metadata, pod_pattern
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["dashboard", "dashboard_json"]

_VAR = "$namespace"


def dashboard(env: EnvironmentSpec) -> Document:
    """A ConfigMap labelled ``grafana_dashboard: "1"`` holding the dashboard JSON."""
    meta = metadata(env.agent, f"{env.agent.agent_id}-dashboard")
    meta["labels"] = {**meta["labels"], "grafana_dashboard": "1"}
    body = json.dumps(dashboard_json(env), indent=2, sort_keys=True)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {f"{env.agent.agent_id}.json": body + "\n"},
    }


def dashboard_json(env: EnvironmentSpec) -> dict[str, Any]:
    """The platform's panels: traffic, latency, errors, resources, pods, LLM tokens and cost."""
    spec = env.agent
    agent = f'agent_id="{spec.agent_id}", tenant_id="{spec.tenant}", namespace=~"{_VAR}"'
    pods = f'namespace=~"{_VAR}", container="{CONTAINER}", pod=~"{pod_pattern(spec)}"'
    p95 = spec.slo.p95_latency_seconds
    panels = [
        _panel(
            "Request rate",
            f"sum by (capability, status) (rate({names.REQUESTS}{{{agent}}}[5m]))",
            "reqps",
        ),
        _panel(
            "p95 latency",
            f"histogram_quantile(0.95, sum by (le) "
            f"(rate({names.REQUEST_DURATION}_bucket{{{agent}}}[5m])))",
            "s",
            threshold=p95,
        ),
        _panel(
            "Error rate",
            f"sum(rate({names.ERRORS}{{{agent}}}[5m]))\n  /\n"
            f"sum(rate({names.REQUESTS}{{{agent}}}[5m]))",
            "percentunit",
            threshold=spec.slo.error_rate_percent / 100,
        ),
        _panel(
            "CPU",
            f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{pods}}}[5m]))",
            "cores",
        ),
        _panel(
            "Memory",
            f"sum by (pod) (container_memory_working_set_bytes{{{pods}}})",
            "bytes",
        ),
        _panel(
            "Pods",
            f'count(kube_pod_info{{namespace=~"{_VAR}", pod=~"{pod_pattern(spec)}"}})',
            "none",
            kind="stat",
        ),
        _panel(
            "In-flight and queued calls",
            f"sum({names.INFLIGHT}{{{agent}}}) or vector(0)",
            "none",
            extra=f"sum({names.QUEUE_DEPTH}{{{agent}}})",
        ),
        _panel(
            "LLM tokens (30 days)",
            f"sum by (token_type) (increase({names.LLM_TOKENS}{{{agent}}}[30d]))",
            "none",
            kind="stat",
        ),
        _panel(
            "LLM cost (30 days)",
            f"sum(increase({names.LLM_COST}{{{agent}}}[30d]))",
            "currencyUSD",
            kind="stat",
        ),
    ]
    for index, panel in enumerate(panels):
        panel["id"] = index + 1
        panel["gridPos"] = {"h": 8, "w": 8, "x": (index % 3) * 8, "y": (index // 3) * 8}
    return {
        "title": f"Agent {spec.agent_id} ({spec.tenant})",
        "uid": f"{spec.tenant}-{spec.agent_id}"[:40],
        "tags": ["greenlang", "agent", spec.tenant],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "namespace",
                    "type": "query",
                    "datasource": {"type": "prometheus"},
                    "query": f'label_values({names.INFO}{{agent_id="{spec.agent_id}"}}, namespace)',
                    "includeAll": True,
                    "multi": True,
                    "refresh": 2,
                }
            ]
        },
        "panels": panels,
    }


def _panel(
    title: str,
    expr: str,
    unit: str,
    *,
    kind: str = "timeseries",
    threshold: float | None = None,
    extra: str | None = None,
) -> dict[str, Any]:
    targets = [{"refId": "A", "expr": expr}]
    if extra:
        targets.append({"refId": "B", "expr": extra})
    defaults: dict[str, Any] = {"unit": unit}
    if threshold is not None:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [{"color": "green", "value": None}, {"color": "red", "value": threshold}],
        }
    return {
        "title": title,
        "type": kind,
        "datasource": {"type": "prometheus"},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
    }
