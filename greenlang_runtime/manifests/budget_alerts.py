"""The LLM budget's alerts (only with ``[tool.greenlang-runtime.llm-budget]``), with scenarios.

The budget's figures are shared by every replica (Redis): each pod exposes
the same limit and, as its last Redis answer, the scope's committed spend, so
the rules take the highest of the agent's pods.
"""

from __future__ import annotations

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._scenarios import (
    Alert,
    Check,
    Scenario,
    Series,
    agent_matchers,
    sample_labels,
)
from greenlang_runtime.manifests.slo import BY
from greenlang_runtime.spec import AgentSpec

__all__ = ["budget_alerts", "budget_used"]

WARN_AT = 0.8


def budget_used(agent: str) -> str:
    """PromQL: the share of the period's budget committed, from the agent's pods."""
    return (
        f"max by ({BY}) ({names.LLM_BUDGET_SPENT}{{{agent}}})\n  /\n"
        f"max by ({BY}) ({names.LLM_BUDGET_LIMIT}{{{agent}}} > 0)"
    )


def _series(spec: AgentSpec, spent: str, rejections: str) -> tuple[Series, ...]:
    labels = {**sample_labels(spec).agent, "scope": "tenant"}
    return (
        Series(names.LLM_BUDGET_LIMIT, labels, "10+0x40"),
        Series(names.LLM_BUDGET_SPENT, labels, spent),
        Series(names.LLM_BUDGET_REJECTIONS, labels, rejections),
    )


def almost_spent(spec: AgentSpec) -> Alert:
    """80 % of the period's LLM budget committed, for 5 minutes."""
    agent = agent_matchers(spec)["agent"]
    name = "AgentLLMBudgetAlmostSpent"
    return Alert(
        name=name,
        expr=f"{budget_used(agent)}\n>= {WARN_AT:g}",
        duration="5m",
        labels={"severity": "warning", "slo": "llm-budget"},
        annotations={
            "summary": "Agent {{ $labels.agent_id }} has spent 80 % of its LLM budget",
            "description": (
                "{{ $labels.agent_id }} in {{ $labels.namespace }} has committed "
                "{{ $value | humanizePercentage }} of the LLM budget of this period; calls "
                "are refused once the rest is reserved."
            ),
        },
        fired_labels=sample_labels(spec).by_agent,
        scenarios=(
            Scenario(
                f"{name} fires at 9 of 10 USD",
                _series(spec, "9+0x40", "0+0x40"),
                (
                    Check(
                        "20m", name, fires=True, shown={"{{ $value | humanizePercentage }}": "90%"}
                    ),
                ),
            ),
            Scenario(
                f"{name} stays quiet at 7 of 10 USD",
                _series(spec, "7+0x40", "0+0x40"),
                (Check("20m", name, fires=False),),
            ),
        ),
    )


def spent(spec: AgentSpec) -> Alert:
    """Calls refused by the LLM budget in the last 10 minutes, with 80 % of it committed."""
    agent = agent_matchers(spec)["agent"]
    name = "AgentLLMBudgetExhausted"
    return Alert(
        name=name,
        expr=(
            f"({budget_used(agent)}\n>= {WARN_AT:g})\nand\n"
            f"sum by ({BY}) (increase({names.LLM_BUDGET_REJECTIONS}{{{agent}}}[10m])) > 0"
        ),
        duration="0m",
        labels={"severity": "critical", "slo": "llm-budget"},
        annotations={
            "summary": "Agent {{ $labels.agent_id }} has exhausted its LLM budget",
            "description": (
                "{{ $labels.agent_id }} in {{ $labels.namespace }} refuses LLM calls "
                "(429 budget_exceeded) until the budget period ends."
            ),
        },
        fired_labels=sample_labels(spec).by_agent,
        scenarios=(
            Scenario(
                f"{name} fires while calls are refused",
                _series(spec, "9.9+0x40", "0+3x40"),
                (Check("20m", name, fires=True),),
            ),
            Scenario(
                f"{name} stays quiet while none is refused",
                _series(spec, "9.9+0x40", "0+0x40"),
                (Check("20m", name, fires=False),),
            ),
        ),
    )


def budget_alerts(spec: AgentSpec) -> list[Alert]:
    """Both budget alerts when the spec sets a budget; none otherwise."""
    if spec.llm_budget is None:
        return []
    return [almost_spent(spec), spent(spec)]
