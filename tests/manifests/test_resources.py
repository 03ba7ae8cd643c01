"""HPA, VPA, PDB, NetworkPolicy, monitoring, quota and delivery objects, value by value."""

from __future__ import annotations

import json
from typing import Any

import yaml

from greenlang_runtime.manifests import render_tree
from greenlang_runtime.manifests.layout import tenant_documents
from tests.manifests.conftest import make_spec


def _file(path: str, **table: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(render_tree(make_spec(**table))[path])
    return doc


def test_hpa_scales_on_cpu_memory_request_rate_and_queue_depth() -> None:
    """Targets from the spec; 2.5 requests a second per pod is written as 2500m."""
    scaling = {
        "min-replicas": 2,
        "max-replicas": 10,
        "target-requests-per-second": 2.5,
        "target-queue-depth": 5,
    }
    spec = _file("base/hpa.yaml", scaling=scaling)["spec"]
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        },
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "agent_requests_per_second"},
                "target": {"type": "AverageValue", "averageValue": "2500m"},
            },
        },
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "agent_queue_depth"},
                "target": {"type": "AverageValue", "averageValue": "5"},
            },
        },
    ]
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["behavior"]["scaleDown"]["selectPolicy"] == "Min"


def test_vpa_only_recommends_and_pdb_evicts_unhealthy_pods() -> None:
    """VPA updateMode Off; PDB one pod at a time with AlwaysAllow."""
    assert _file("base/vpa.yaml")["spec"]["updatePolicy"] == {"updateMode": "Off"}
    assert _file("base/pdb.yaml")["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app": "cbam-calculator"}},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


def test_network_policy_opens_only_what_the_spec_needs() -> None:
    """Ingress from ingress-nginx, the namespace and monitoring; egress DNS + deps + HTTPS."""
    spec = _file("base/networkpolicy.yaml", dependencies=["redis"], **{"llm-providers": []})["spec"]
    sources = [
        (rule["from"][0].get("namespaceSelector"), [p["port"] for p in rule["ports"]])
        for rule in spec["ingress"]
    ]
    assert sources == [
        ({"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}, [8000]),
        (None, [8000]),
        ({"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}, [9090]),
    ]
    egress_ports = [[p["port"] for p in rule["ports"]] for rule in spec["egress"]]
    assert egress_ports == [[53, 53], [6379]]
    full = _file("base/networkpolicy.yaml")["spec"]
    assert [[p["port"] for p in rule["ports"]] for rule in full["egress"]] == [
        [53, 53],
        [5432],
        [6379],
        [443],
    ]


def test_service_monitor_scrapes_the_metrics_port_path() -> None:
    """Port `metrics`, path /metrics, every 15 s."""
    endpoint = _file("base/servicemonitor.yaml")["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == (
        "metrics",
        "/metrics",
        "15s",
    )


def test_dashboard_is_a_labelled_config_map_with_the_platform_panels() -> None:
    """grafana_dashboard: "1"; request rate, p95, errors, CPU, memory, pods, LLM tokens, cost."""
    doc = _file("base/dashboard.yaml")
    assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(doc["data"]["cbam-calculator.json"])
    assert [panel["title"] for panel in board["panels"]] == [
        "Traffic, latency, errors and resources",
        "Request rate",
        "p95 latency",
        "Error rate",
        "CPU",
        "Memory",
        "Pods",
        "In-flight and queued calls",
        "LLM tokens (30 days)",
        "LLM cost (30 days)",
        "LLM usage ledger: rows pending, dropped (5m), written per second",
        "SLOs: error budget left and burn rates",
        "Error budget left (30 days)",
        "Availability burn rate (1 = on budget)",
        "Latency burn rate (1 = on budget)",
        "Cost per tenant and agent (USD per hour)",
        "cbam-calculator: cost by kind",
        "Tenant customer-abc-123: cost by agent",
        "Tenant customer-abc-123: total",
    ]


def test_dashboard_shows_the_budget_left_burn_rates_and_marks_burn_alerts() -> None:
    """The budget panel reads the recorded budget; burn alerts are annotations; costs by kind."""
    board = json.loads(_file("base/dashboard.yaml")["data"]["cbam-calculator.json"])
    panels = {panel["title"]: panel for panel in board["panels"]}
    budget = [t["expr"] for t in panels["Error budget left (30 days)"]["targets"]]
    assert budget[0].startswith("tenant_agent:slo_availability_budget_remaining:ratio30d{")
    assert budget[1].startswith("tenant_agent:slo_latency_budget_remaining:ratio30d{")
    # premium: a burn rate is the bad ratio over the 0.01 % budget.
    burn = panels["Availability burn rate (1 = on budget)"]["targets"]
    assert burn[1]["expr"].startswith("tenant_agent:slo_availability_bad:ratio_rate1h{")
    assert burn[1]["expr"].endswith("} / 0.0001")
    [annotation] = board["annotations"]["list"]
    assert 'alertstate="firing"' in annotation["expr"]
    assert "AgentLatencyBudgetBurn" not in annotation["expr"]  # one regex covers both SLIs
    assert "(Availability|Latency)BudgetBurn(Fast|Slow)" in annotation["expr"]
    kinds = panels["cbam-calculator: cost by kind"]["targets"]
    assert [t["legendFormat"] for t in kinds] == ["compute", "memory", "storage", "llm"]


def test_quota_fits_twice_the_maximum_scale_of_every_agent() -> None:
    """max 10 and 3 replicas -> 20 + 6 pods; 26 x 250m = 6500m; 20 x 1 + 6 x 2 = 32000m."""
    big = make_spec()
    small = make_spec(
        **{
            "agent-id": "small",
            "scaling": {"min-replicas": 1, "max-replicas": 3},
            "resources": {"cpu-limit": "2", "memory-limit": "1Gi"},
        }
    )
    documents = dict(tenant_documents([big, small], "staging"))
    hard = documents["resourcequota.yaml"]["spec"]["hard"]
    assert (hard["pods"], hard["requests.cpu"], hard["requests.memory"]) == (
        "26",
        "6500m",
        "6656Mi",
    )
    # 20 x 512Mi + 6 x 1024Mi = 16384Mi
    assert (hard["limits.cpu"], hard["limits.memory"]) == ("32000m", "16384Mi")
    assert (hard["services"], hard["configmaps"], hard["secrets"]) == ("20", "40", "40")
    limits = documents["limitrange.yaml"]["spec"]["limits"][0]
    assert limits["defaultRequest"] == {"cpu": "250m", "memory": "256Mi"}
    assert limits["max"] == {"cpu": "2", "memory": "1Gi"}
    # No agent's own tree holds a namespace-wide object.
    assert not [path for path in render_tree(big) if "quota" in path or "limitrange" in path]


def test_canary_rollout_steps_5_25_50_100_with_analysis() -> None:
    """The Rollout replaces the Deployment; the HPA and VPA then target the Rollout."""
    files = render_tree(make_spec(rollout="canary"))
    assert "base/deployment.yaml" not in files
    canary = yaml.safe_load(files["base/rollout.yaml"])["spec"]["strategy"]["canary"]
    assert [step["setWeight"] for step in canary["steps"] if "setWeight" in step] == [
        5,
        25,
        50,
        100,
    ]
    assert canary["analysis"]["templates"] == [{"templateName": "cbam-calculator-slo"}]
    analysis = yaml.safe_load(files["base/analysistemplate.yaml"])["spec"]["metrics"]
    # premium: the new pods' error ratio within the 99.99 % SLO's budget (0.01 % = 0.0001),
    # their ratio of requests over 0.5 s within the latency budget (5 % = 0.05).
    assert [m["successCondition"] for m in analysis] == [
        "result[0] <= 0.0001",
        "result[0] <= 0.05",
    ]
    assert 'le="0.5"' in analysis[1]["provider"]["prometheus"]["query"]
    assert yaml.safe_load(files["base/hpa.yaml"])["spec"]["scaleTargetRef"]["kind"] == "Rollout"
    assert yaml.safe_load(files["base/vpa.yaml"])["spec"]["targetRef"]["kind"] == "Rollout"


def test_blue_green_has_an_active_and_a_preview_service() -> None:
    """Blue-green promotes from the preview Service to the active one after analysis."""
    files = render_tree(make_spec(rollout="blue-green"))
    strategy = yaml.safe_load(files["base/rollout.yaml"])["spec"]["strategy"]["blueGreen"]
    assert (strategy["activeService"], strategy["previewService"]) == (
        "cbam-calculator",
        "cbam-calculator-preview",
    )
    assert yaml.safe_load(files["base/service-preview.yaml"])["metadata"]["name"] == (
        "cbam-calculator-preview"
    )


def test_argocd_application_syncs_each_overlay_into_its_namespace() -> None:
    """Path <argocd.path>/overlays/<env>, destination <tenant>-<suffix>, replicas ignored."""
    app = _file("platform/argocd-staging.yaml")
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["source"]["path"] == "agents/cbam/overlays/staging"
    assert app["spec"]["destination"]["namespace"] == "customer-abc-123-staging"
    assert app["spec"]["ignoreDifferences"][0]["jsonPointers"] == ["/spec/replicas"]


def test_adapter_rules_serve_the_hpa_metrics() -> None:
    """agent_requests_total as agent_requests_per_second (a rate) and agent_queue_depth."""
    doc = _file("platform/prometheus-adapter-rules.yaml")
    rules = yaml.safe_load(doc["data"]["config.yaml"])["rules"]
    assert [(r["seriesQuery"].split("{")[0], r["name"]["as"]) for r in rules] == [
        ("agent_requests_total", "agent_requests_per_second"),
        ("agent_queue_depth", "agent_queue_depth"),
    ]
    assert "rate(<<.Series>>" in rules[0]["metricsQuery"]
