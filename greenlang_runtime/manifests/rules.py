"""The PrometheusRule's groups: SLO ratios and burn alerts, budget, other alerts, costs."""

from __future__ import annotations

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._meta import Document
from greenlang_runtime.manifests._scenarios import (
    Alert,
    Recording,
    Series,
    agent_matchers,
    sample_labels,
)
from greenlang_runtime.manifests.alerts import alerts
from greenlang_runtime.manifests.costs import cost_recordings
from greenlang_runtime.manifests.slo import BY, budget_expr, budget_record, ratio_exprs, slis
from greenlang_runtime.spec import AgentSpec

__all__ = ["Recording", "budget_recordings", "llm_recordings", "recordings", "rule_groups"]


def llm_recordings(spec: AgentSpec) -> list[Recording]:
    """LLM tokens and cost per tenant and agent, for dashboards and chargeback."""
    agent = agent_matchers(spec)["agent"]
    scraped = sample_labels(spec)
    ident = {"namespace": scraped.namespace, "tenant_id": spec.tenant, "agent_id": spec.agent_id}
    model = {"provider": "anthropic", "model": "claude-sonnet-4-5"}
    sample = {**ident, "version": spec.version, "pod": scraped.pod}
    tokens = Series(names.LLM_TOKENS, {**sample, **model, "token_type": "input"}, "0+120x70")
    cost = Series(names.LLM_COST, {**sample, **model}, "0+60x70")
    return [
        # 120 tokens a minute is 2 a second.
        Recording(
            record="tenant_agent:agent_llm_tokens:rate5m",
            expr=(
                f"sum by ({BY}, provider, model, token_type) "
                f"(rate({names.LLM_TOKENS}{{{agent}}}[5m]))"
            ),
            inputs=(tokens,),
            expected={**ident, **model, "token_type": "input"},
            expected_value=2.0,
        ),
        # 60 USD a minute is 1 USD a second, and 3,600 USD over the hour.
        Recording(
            record="tenant_agent:agent_llm_cost_usd:rate5m",
            expr=f"sum by ({BY}, provider, model) (rate({names.LLM_COST}{{{agent}}}[5m]))",
            inputs=(cost,),
            expected={**ident, **model},
            expected_value=1.0,
        ),
        Recording(
            record="tenant_agent:agent_llm_cost_usd:increase1h",
            expr=f"sum by ({BY}) (increase({names.LLM_COST}{{{agent}}}[1h]))",
            inputs=(cost,),
            expected=ident,
            expected_value=3600.0,
            eval_time="70m",
        ),
    ]


def budget_recordings(spec: AgentSpec) -> list[Recording]:
    """The share of each SLI's 30-day error budget left."""
    agent = agent_matchers(spec)["agent"]
    scraped = sample_labels(spec)
    ident = {"namespace": scraped.namespace, "tenant_id": spec.tenant, "agent_id": spec.agent_id}
    sample = {**ident, "version": spec.version, "pod": scraped.pod}
    availability = slis(spec)[0]
    # 100,000 requests a minute, 1 in 4 of the budget's share failed (a 0.25x burn): after
    # an hour, the bad ratio is a quarter of the budget and 1 - 1/4 = 0.75 of it is left.
    bad = 100_000 * availability.budget / 4
    traffic = (
        Series(names.REQUESTS, {**sample, "status": "success"}, f"0+{100_000 - bad:g}x70"),
        Series(names.REQUESTS, {**sample, "status": "error"}, f"0+{bad:g}x70"),
    )
    made = []
    for sli in slis(spec):
        made.append(
            Recording(
                record=budget_record(sli),
                expr=budget_expr(sli, agent),
                inputs=traffic if sli.key == "availability" else (),
                expected=ident,
                expected_value=0.75,
                eval_time="60m",
            )
        )
    return made


def recordings(spec: AgentSpec) -> list[Recording]:
    """Every recording rule that comes with a hand-worked value to test it against."""
    return [*llm_recordings(spec), *budget_recordings(spec)[:1], *cost_recordings(spec)]


def _alert_rule(spec: AgentSpec, alert: Alert) -> Document:
    return {
        "alert": alert.name,
        "expr": alert.expr,
        "for": alert.duration,
        "labels": {**alert.labels, "agent_id": spec.agent_id, "tenant_id": spec.tenant},
        "annotations": alert.annotations,
    }


def rule_groups(spec: AgentSpec) -> list[Document]:
    """The PrometheusRule's ``spec.groups``: also a plain rules file for promtool.

    The SLO group records each window's ratio before the burn alerts read them,
    in the same evaluation (rules of a group run in order).
    """
    agent = agent_matchers(spec)["agent"]
    every = alerts(spec)
    burn = [a for a in every if "BudgetBurn" in a.name]
    ratios = [
        (record, expr) for sli in slis(spec) for record, expr in ratio_exprs(spec, sli, agent)
    ]
    return [
        {
            "name": f"{spec.agent_id}.slo",
            "interval": "1m",
            "rules": [
                *({"record": record, "expr": expr} for record, expr in ratios),
                *(_alert_rule(spec, alert) for alert in burn),
            ],
        },
        {
            # A 30-day range once every 5 minutes is plenty for a budget.
            "name": f"{spec.agent_id}.slo-budget",
            "interval": "5m",
            "rules": [{"record": r.record, "expr": r.expr} for r in budget_recordings(spec)],
        },
        {
            "name": f"{spec.agent_id}.alerts",
            "interval": "30s",
            "rules": [_alert_rule(spec, alert) for alert in every if alert not in burn],
        },
        {
            "name": f"{spec.agent_id}.llm-cost",
            "interval": "1m",
            "rules": [{"record": r.record, "expr": r.expr} for r in llm_recordings(spec)],
        },
        {
            "name": f"{spec.agent_id}.cost",
            "interval": "1m",
            "rules": [{"record": r.record, "expr": r.expr} for r in cost_recordings(spec)],
        },
    ]
