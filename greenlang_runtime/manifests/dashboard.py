"""The Grafana dashboard, as a ConfigMap for Grafana's dashboard sidecar."""

from __future__ import annotations

import json
from typing import Any

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._meta import CONTAINER, Document, metadata, pod_pattern
from greenlang_runtime.manifests.budget_alerts import budget_used
from greenlang_runtime.manifests.costs import COST_RECORD
from greenlang_runtime.manifests.ledger_alert import LEDGER
from greenlang_runtime.manifests.slo import BUDGET_DAYS, budget_record, ratio_record, slis
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
    """The platform's panels, the SLOs' budget and burn rates, and the cost rows."""
    spec = env.agent
    sections = [
        ("Traffic, latency, errors and resources", _platform_panels(env)),
        ("SLOs: error budget left and burn rates", _slo_panels(env)),
        ("Cost per tenant and agent (USD per hour)", _cost_panels(env)),
    ]
    if spec.llm_budget is not None:
        sections.append(("LLM budget of the period", _budget_panels(env)))
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
        "annotations": {"list": [_burn_annotation(env)]},
        "panels": _laid_out(sections),
    }


def _platform_panels(env: EnvironmentSpec) -> list[dict[str, Any]]:
    """Request rate, p95, errors, CPU, memory, pods, in-flight calls, LLM tokens and cost."""
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
    if LEDGER in spec.dependencies:
        panels.append(_ledger_panel(agent))
    return panels


def _ledger_panel(agent: str) -> dict[str, Any]:
    """The LLM usage ledger: rows waiting, rows dropped, rows written (docs/llm.md)."""
    panel = _panel(
        "LLM usage ledger: rows pending, dropped (5m), written per second",
        f"sum({names.LLM_LEDGER_PENDING}{{{agent}}})",
        "none",
        extra=f"sum(increase({names.LLM_LEDGER_DROPPED}{{{agent}}}[5m]))",
    )
    panel["targets"].append(
        {"refId": "C", "expr": f"sum(rate({names.LLM_LEDGER_ROWS}{{{agent}}}[5m]))"}
    )
    return panel


def _laid_out(sections: list[tuple[str, list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """A row per section, its panels three abreast; ids in order."""
    laid_out: list[dict[str, Any]] = []
    y = 0
    for title, section in sections:
        laid_out.append({"type": "row", "title": title, "collapsed": False, "panels": []})
        laid_out[-1]["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
        y += 1
        for index, panel in enumerate(section):
            panel["gridPos"] = {"h": 8, "w": 8, "x": (index % 3) * 8, "y": y + (index // 3) * 8}
            laid_out.append(panel)
        y += ((len(section) + 2) // 3) * 8
    for index, panel in enumerate(laid_out):
        panel["id"] = index + 1
    return laid_out


def _own(env: EnvironmentSpec) -> str:
    spec = env.agent
    return f'agent_id="{spec.agent_id}", tenant_id="{spec.tenant}", namespace=~"{_VAR}"'


def _slo_panels(env: EnvironmentSpec) -> list[dict[str, Any]]:
    """Budget left over 30 days, and each SLI's burn rate over the alerts' windows."""
    own = _own(env)
    budget = _panel(
        f"Error budget left ({BUDGET_DAYS} days)",
        f"{budget_record(slis(env.agent)[0])}{{{own}}}",
        "percentunit",
        kind="stat",
        extra=f"{budget_record(slis(env.agent)[1])}{{{own}}}",
    )
    budget["targets"][0]["legendFormat"] = "availability {{namespace}}"
    budget["targets"][1]["legendFormat"] = "latency {{namespace}}"
    made = [budget]
    for sli in slis(env.agent):
        burn = _panel(f"{sli.title} burn rate (1 = on budget)", "", "none", threshold=1.0)
        burn["targets"] = [
            {
                "refId": chr(ord("A") + index),
                "expr": f"{ratio_record(sli, window)}{{{own}}} / {sli.budget:.6g}",
                "legendFormat": f"{window} {{{{namespace}}}}",
            }
            for index, window in enumerate(("5m", "1h", "6h", "1d", "3d"))
        ]
        made.append(burn)
    return made


def _cost_panels(env: EnvironmentSpec) -> list[dict[str, Any]]:
    """This agent's cost by kind, and its tenant's by agent."""
    spec = env.agent
    own = f'agent_id="{spec.agent_id}", tenant_id="{spec.tenant}", namespace=~"{_VAR}"'
    kinds = ("compute", "memory", "storage", "llm")
    agent = _panel(f"{spec.agent_id}: cost by kind", "", "currencyUSD")
    agent["targets"] = [
        {
            "refId": chr(ord("A") + index),
            "expr": f"sum({COST_RECORD}:{kind}{{{own}}})",
            "legendFormat": kind,
        }
        for index, kind in enumerate(kinds)
    ]
    every_kind = f'{{__name__=~"{COST_RECORD}:.+", tenant_id="{spec.tenant}", namespace=~"{_VAR}"}}'
    tenant = _panel(
        f"Tenant {spec.tenant}: cost by agent", f"sum by (agent_id) ({every_kind})", "currencyUSD"
    )
    total = _panel(
        f"Tenant {spec.tenant}: total",
        f"sum by (tenant_id) ({every_kind})",
        "currencyUSD",
        kind="stat",
    )
    return [agent, tenant, total]


def _budget_panels(env: EnvironmentSpec) -> list[dict[str, Any]]:
    """The share of the LLM budget used, its USD figures, and the calls it refused."""
    own = _own(env)
    used = _panel("LLM budget used", budget_used(own), "percentunit", kind="gauge", threshold=0.8)
    usd = _panel(
        "LLM budget: committed and limit (USD)",
        f"max({names.LLM_BUDGET_SPENT}{{{own}}})",
        "currencyUSD",
        extra=f"max({names.LLM_BUDGET_LIMIT}{{{own}}})",
    )
    usd["targets"][0]["legendFormat"] = "committed"
    usd["targets"][1]["legendFormat"] = "limit"
    refused = _panel(
        "LLM calls refused and unchecked",
        f"sum(rate({names.LLM_BUDGET_REJECTIONS}{{{own}}}[5m]))",
        "reqps",
        extra=f"sum(rate({names.LLM_BUDGET_UNCHECKED}{{{own}}}[5m]))",
    )
    refused["targets"][0]["legendFormat"] = "refused"
    refused["targets"][1]["legendFormat"] = "unchecked (Redis unreachable)"
    return [used, usd, refused]


def _burn_annotation(env: EnvironmentSpec) -> dict[str, Any]:
    """A mark on every panel while a burn alert of this agent fires."""
    spec = env.agent
    return {
        "name": "SLO burn alerts",
        "datasource": {"type": "prometheus"},
        "enable": True,
        "iconColor": "red",
        "expr": (
            'ALERTS{alertname=~"Agent(Availability|Latency)BudgetBurn(Fast|Slow)", '
            f'alertstate="firing", agent_id="{spec.agent_id}", tenant_id="{spec.tenant}", '
            f'namespace=~"{_VAR}"}}'
        ),
        "step": "1m",
        "titleFormat": "{{alertname}}",
        "textFormat": "{{namespace}}: {{severity}}",
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
