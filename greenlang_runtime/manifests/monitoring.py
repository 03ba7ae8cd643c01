"""ServiceMonitor, PrometheusRule and the prometheus-adapter rules behind the HPA."""

from __future__ import annotations

from greenlang_runtime import metric_names as names
from greenlang_runtime.config import METRICS_PATH
from greenlang_runtime.manifests._meta import Document, metadata, selector
from greenlang_runtime.manifests._yaml import dump
from greenlang_runtime.manifests.autoscaling import REQUEST_RATE_METRIC
from greenlang_runtime.manifests.rules import rule_groups
from greenlang_runtime.spec import EnvironmentSpec

__all__ = ["ADAPTER_RULES_NAME", "PROMETHEUS_LABELS", "adapter_rules", "prometheus_rule"]

# The label the platform's Prometheus selects ServiceMonitors and rules by.
PROMETHEUS_LABELS = {"prometheus": "kube-prometheus"}
ADAPTER_RULES_NAME = "greenlang-agent-adapter-rules"
_POD_RESOURCES = {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}}


def service_monitor(env: EnvironmentSpec) -> Document:
    """Scrape the metrics port every 15 s; canary pods keep their template hash as a label."""
    endpoint: Document = {
        "port": "metrics",
        "path": METRICS_PATH,
        "interval": "15s",
        "scrapeTimeout": "10s",
        "scheme": "http",
    }
    if env.agent.rollout != "rolling":
        # The canary analysis compares the new pods by this label.
        endpoint["relabelings"] = [
            {
                "sourceLabels": ["__meta_kubernetes_pod_label_rollouts_pod_template_hash"],
                "targetLabel": "rollouts_pod_template_hash",
            }
        ]
    meta = metadata(env.agent)
    meta["labels"] = {**meta["labels"], **PROMETHEUS_LABELS}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": meta,
        "spec": {"selector": {"matchLabels": selector(env.agent)}, "endpoints": [endpoint]},
    }


def prometheus_rule(env: EnvironmentSpec) -> Document:
    """The SLO alerts and the LLM cost recording rules."""
    meta = metadata(env.agent)
    meta["labels"] = {**meta["labels"], **PROMETHEUS_LABELS, "role": "alert-rules"}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": meta,
        "spec": {"groups": rule_groups(env.agent)},
    }


def adapter_rules(env: EnvironmentSpec, namespace: str) -> Document:
    """prometheus-adapter's custom-metrics rules for the HPA's two pod metrics.

    The same for every agent (the adapter matches the HPA's namespace and pods),
    so it lives in the monitoring namespace, outside the agent's kustomization.
    """
    rules = [
        {
            "seriesQuery": f'{names.REQUESTS}{{namespace!="",pod!=""}}',
            "resources": _POD_RESOURCES,
            "name": {"matches": f"^{names.REQUESTS}$", "as": REQUEST_RATE_METRIC},
            "metricsQuery": "sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)",
        },
        {
            "seriesQuery": f'{names.QUEUE_DEPTH}{{namespace!="",pod!=""}}',
            "resources": _POD_RESOURCES,
            "name": {"matches": f"^{names.QUEUE_DEPTH}$", "as": names.QUEUE_DEPTH},
            "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
        },
    ]
    meta = metadata(env.agent, ADAPTER_RULES_NAME, namespace=namespace)
    meta["labels"] = {"app.kubernetes.io/name": "prometheus-adapter"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta,
        "data": {"config.yaml": dump([{"rules": rules}])},
    }
