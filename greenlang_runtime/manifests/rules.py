"""The PrometheusRule's groups: the SLO alerts and the LLM cost recording rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._meta import Document
from greenlang_runtime.manifests.alerts import BY, Series, agent_matchers, alerts
from greenlang_runtime.spec import NAMESPACE_SUFFIXES, AgentSpec

__all__ = ["Recording", "recordings", "rule_groups"]


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording rule and an input with the value it must record."""

    record: str
    expr: str
    inputs: tuple[Series, ...] = ()
    expected: dict[str, str] = field(default_factory=dict)
    expected_value: float = 0.0
    eval_time: str = "10m"


def recordings(spec: AgentSpec) -> list[Recording]:
    """LLM tokens and cost per tenant and agent, for dashboards and chargeback."""
    agent = agent_matchers(spec)["agent"]
    namespace = f"{spec.tenant}-{NAMESPACE_SUFFIXES['production']}"
    ident = {"namespace": namespace, "tenant_id": spec.tenant, "agent_id": spec.agent_id}
    model = {"provider": "anthropic", "model": "claude-sonnet-4-5"}
    sample = {**ident, "version": spec.version, "pod": f"{spec.agent_id}-5d8f7c9b6-x2k4p"}
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


def rule_groups(spec: AgentSpec) -> list[Document]:
    """The PrometheusRule's ``spec.groups``: also a plain rules file for promtool."""
    return [
        {
            "name": f"{spec.agent_id}.slo",
            "interval": "30s",
            "rules": [
                {
                    "alert": alert.name,
                    "expr": alert.expr,
                    "for": alert.duration,
                    "labels": {**alert.labels, "agent_id": spec.agent_id, "tenant_id": spec.tenant},
                    "annotations": alert.annotations,
                }
                for alert in alerts(spec)
            ],
        },
        {
            "name": f"{spec.agent_id}.llm-cost",
            "interval": "1m",
            "rules": [{"record": r.record, "expr": r.expr} for r in recordings(spec)],
        },
    ]
