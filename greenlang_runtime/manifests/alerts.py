"""The agent's alerts, each with the synthetic series on which it must fire and stay quiet.

:mod:`greenlang_runtime.manifests.promtool` turns those scenarios into the rule
unit tests ``promtool test rules`` runs. Every ``agent_*`` name comes from
:mod:`greenlang_runtime.metric_names`. The burn-rate alerts of the SLOs live in
:mod:`greenlang_runtime.manifests.burn_alerts`; the scenario types in
:mod:`greenlang_runtime.manifests._scenarios`.
"""

from __future__ import annotations

from collections.abc import Callable

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._scenarios import (
    Alert,
    Check,
    Sample,
    Scenario,
    Series,
    agent_matchers,
    sample_labels,
)
from greenlang_runtime.manifests.budget_alerts import budget_alerts
from greenlang_runtime.manifests.burn_alerts import burn_alerts
from greenlang_runtime.manifests.ledger_alert import LEDGER, ledger_behind
from greenlang_runtime.manifests.slo import BY
from greenlang_runtime.spec import AgentSpec

__all__ = [
    "BY",
    "Alert",
    "Check",
    "Sample",
    "Scenario",
    "Series",
    "agent_matchers",
    "alerts",
    "sample_labels",
]


def _num(value: float) -> str:
    return f"{value:.6g}"


def _fire_and_quiet(
    name: str, at: str, fire: tuple[Series, ...], quiet: tuple[Series, ...]
) -> tuple[Scenario, ...]:
    return (
        Scenario(f"{name} fires", fire, (Check(at, name, fires=True),)),
        Scenario(f"{name} stays quiet", quiet, (Check(at, name, fires=False),)),
    )


def error_rate(spec: AgentSpec) -> Alert:
    """More failed calls (``agent_errors_total``) than the spec's error-rate percent, for 5m."""
    agent, sample = agent_matchers(spec)["agent"], sample_labels(spec)
    slo = spec.slo
    return Alert(
        name="AgentHighErrorRate",
        expr=(
            f"sum by ({BY}) (rate({names.ERRORS}{{{agent}}}[5m]))\n  /\n"
            f"sum by ({BY}) (rate({names.REQUESTS}{{{agent}}}[5m]))\n"
            f"> {_num(slo.error_rate_percent / 100)}"
        ),
        duration="5m",
        labels={"severity": "critical", "slo": "error-rate"},
        annotations={
            "summary": "Agent {{ $labels.agent_id }} error rate is above its SLO",
            "description": (
                f"More than {_num(slo.error_rate_percent)} % of the requests to "
                "{{ $labels.agent_id }} in {{ $labels.namespace }} have failed for 5 minutes."
            ),
        },
        fired_labels=sample.by_agent,
        scenarios=_fire_and_quiet(
            "AgentHighErrorRate",
            "20m",
            (
                Series(names.REQUESTS, {**sample.requests, "status": "error"}, "0+60x30"),
                Series(names.ERRORS, {**sample.agent, "error_type": "RuntimeError"}, "0+60x30"),
            ),
            (
                Series(names.REQUESTS, {**sample.requests, "status": "success"}, "0+60x30"),
                Series(names.ERRORS, {**sample.agent, "error_type": "RuntimeError"}, "0+0x30"),
            ),
        ),
    )


def crash_looping(spec: AgentSpec) -> Alert:
    """One of the agent's pods restarted more than 3 times in 10 minutes."""
    pods, sample = agent_matchers(spec)["pods"], sample_labels(spec)
    restarts = "kube_pod_container_status_restarts_total"
    return Alert(
        name="AgentPodCrashLooping",
        expr=f"increase({restarts}{{{pods}}}[10m]) > 3",
        duration="5m",
        labels={"severity": "critical", "slo": "availability"},
        annotations={
            "summary": "Agent pod {{ $labels.pod }} is crash looping",
            "description": (
                "{{ $labels.pod }} in {{ $labels.namespace }} restarted more than "
                "3 times in 10 minutes."
            ),
        },
        fired_labels=sample.kube,
        scenarios=_fire_and_quiet(
            "AgentPodCrashLooping",
            "20m",
            (Series(restarts, sample.kube, "0+1x30"),),
            (Series(restarts, sample.kube, "0+0x30"),),
        ),
    )


def memory_pressure(spec: AgentSpec) -> Alert:
    """A pod's working set above 90 % of its memory limit for 5 minutes."""
    pods, sample = agent_matchers(spec)["pods"], sample_labels(spec)
    used, limit = "container_memory_working_set_bytes", "container_spec_memory_limit_bytes"
    return Alert(
        name="AgentMemoryPressure",
        expr=(
            f"max by (namespace, pod) ({used}{{{pods}}})\n"
            f"  /\nmax by (namespace, pod) ({limit}{{{pods}}} > 0)\n"
            "> 0.9"
        ),
        duration="5m",
        labels={"severity": "warning", "slo": "saturation"},
        annotations={
            "summary": "Agent pod {{ $labels.pod }} is close to its memory limit",
            "description": (
                "{{ $labels.pod }} in {{ $labels.namespace }} has used more than 90 % "
                "of its memory limit for 5 minutes."
            ),
        },
        fired_labels=sample.by_pod,
        scenarios=_fire_and_quiet(
            "AgentMemoryPressure",
            "20m",
            (Series(used, sample.kube, "950+0x30"), Series(limit, sample.kube, "1000+0x30")),
            (Series(used, sample.kube, "500+0x30"), Series(limit, sample.kube, "1000+0x30")),
        ),
    )


def cpu_throttling(spec: AgentSpec) -> Alert:
    """A pod throttled in more than 25 % of its CFS periods for 15 minutes."""
    pods, sample = agent_matchers(spec)["pods"], sample_labels(spec)
    throttled, periods = (
        "container_cpu_cfs_throttled_periods_total",
        "container_cpu_cfs_periods_total",
    )
    return Alert(
        name="AgentCPUThrottling",
        expr=(
            f"sum by (namespace, pod) (rate({throttled}{{{pods}}}[5m]))\n  /\n"
            f"sum by (namespace, pod) (rate({periods}{{{pods}}}[5m]))\n"
            "> 0.25"
        ),
        duration="15m",
        labels={"severity": "warning", "slo": "saturation"},
        annotations={
            "summary": "Agent pod {{ $labels.pod }} is CPU throttled",
            "description": (
                "{{ $labels.pod }} in {{ $labels.namespace }} was throttled in more than "
                "25 % of its CPU periods for 15 minutes."
            ),
        },
        fired_labels=sample.by_pod,
        scenarios=_fire_and_quiet(
            "AgentCPUThrottling",
            "30m",
            (Series(throttled, sample.kube, "0+50x40"), Series(periods, sample.kube, "0+100x40")),
            (Series(throttled, sample.kube, "0+0x40"), Series(periods, sample.kube, "0+100x40")),
        ),
    )


_THRESHOLD_ALERTS: tuple[Callable[[AgentSpec], Alert], ...] = (
    error_rate,
    crash_looping,
    memory_pressure,
    cpu_throttling,
)


def alerts(spec: AgentSpec) -> list[Alert]:
    """The SLO burn, error-rate, crash-loop, saturation, LLM budget and LLM ledger alerts."""
    ledger = [ledger_behind(spec)] if LEDGER in spec.dependencies else []
    return [
        *burn_alerts(spec),
        *(make(spec) for make in _THRESHOLD_ALERTS),
        *budget_alerts(spec),
        *ledger,
    ]
