"""The SLO alerts, each with the synthetic series on which it must fire and stay quiet.

:mod:`greenlang_runtime.manifests.promtool` turns those series into the rule unit
tests ``promtool test rules`` runs. Every ``agent_*`` name comes from
:mod:`greenlang_runtime.metric_names`.
"""

from __future__ import annotations

from dataclasses import dataclass

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._meta import CONTAINER, pod_pattern
from greenlang_runtime.metrics import DURATION_BUCKETS
from greenlang_runtime.spec import NAMESPACE_SUFFIXES, AgentSpec

__all__ = ["BURN_RATE", "BY", "Alert", "Series", "agent_matchers", "alerts"]

# A 30-day budget spent 14.4 times too fast is gone in about 2 days: page.
BURN_RATE = 14.4
BY = "namespace, agent_id, tenant_id"


@dataclass(frozen=True, slots=True)
class Series:
    """One input series of a rule unit test, in promtool's expanding notation."""

    name: str
    labels: dict[str, str]
    values: str


@dataclass(frozen=True, slots=True)
class Alert:
    """One alerting rule and the inputs on which it must fire and must not."""

    name: str
    expr: str
    duration: str
    labels: dict[str, str]
    annotations: dict[str, str]
    # The labels of the alert that fires (besides ``labels``).
    fired_labels: dict[str, str]
    fire: tuple[Series, ...]
    quiet: tuple[Series, ...]
    eval_time: str


def _num(value: float) -> str:
    return f"{value:.6g}"


def agent_matchers(spec: AgentSpec) -> dict[str, str]:
    """Label matchers and sample labels shared by the alerts of one agent."""
    suffixes = "|".join(NAMESPACE_SUFFIXES.values())
    return {
        "agent": f'agent_id="{spec.agent_id}", tenant_id="{spec.tenant}"',
        "pods": (
            f'container="{CONTAINER}", namespace=~"{spec.tenant}-({suffixes})", '
            f'pod=~"{pod_pattern(spec)}"'
        ),
    }


def alerts(spec: AgentSpec) -> list[Alert]:
    """The SLO alerts, thresholds from the spec's SLA tier (or its ``slo`` table)."""
    scope = agent_matchers(spec)
    agent, pods = scope["agent"], scope["pods"]
    namespace = f"{spec.tenant}-{NAMESPACE_SUFFIXES['production']}"
    pod = f"{spec.agent_id}-5d8f7c9b6-x2k4p"
    ident = {"agent_id": spec.agent_id, "tenant_id": spec.tenant}
    sample = {**ident, "version": spec.version, "namespace": namespace, "pod": pod}
    kube = {"namespace": namespace, "pod": pod, "container": CONTAINER}
    slo = spec.slo
    error_ratio = slo.error_rate_percent / 100
    burn = BURN_RATE * (1 - slo.availability_percent / 100)
    requests = {**sample, "capability": "calculate"}
    by_agent = {"namespace": namespace, **ident}
    by_pod = {"namespace": namespace, "pod": pod}

    def rate_ratio(window: str) -> str:
        return (
            f'sum by ({BY}) (rate({names.REQUESTS}{{{agent}, status="error"}}[{window}]))\n'
            f"  /\nsum by ({BY}) (rate({names.REQUESTS}{{{agent}}}[{window}]))"
        )

    buckets = [*(repr(float(b)) for b in DURATION_BUCKETS), "+Inf"]
    slow_from = next(i for i, b in enumerate(DURATION_BUCKETS) if b > slo.p95_latency_seconds)
    return [
        Alert(
            name="AgentHighP95Latency",
            expr=(
                f"histogram_quantile(0.95, sum by ({BY}, le) "
                f"(rate({names.REQUEST_DURATION}_bucket{{{agent}}}[5m])))\n"
                f"> {_num(slo.p95_latency_seconds)}"
            ),
            duration="5m",
            labels={"severity": "warning", "slo": "latency"},
            annotations={
                "summary": "Agent {{ $labels.agent_id }} p95 latency is above its SLO",
                "description": (
                    "p95 request latency of {{ $labels.agent_id }} in {{ $labels.namespace }} "
                    f"has been above {_num(slo.p95_latency_seconds)} s for 5 minutes."
                ),
            },
            fired_labels=by_agent,
            # Every request lands past the first bucket bound above the threshold.
            fire=tuple(
                Series(
                    f"{names.REQUEST_DURATION}_bucket",
                    {**requests, "le": le},
                    "0+60x30" if i > slow_from else "0+0x30",
                )
                for i, le in enumerate(buckets)
            ),
            quiet=tuple(
                Series(f"{names.REQUEST_DURATION}_bucket", {**requests, "le": le}, "0+60x30")
                for le in buckets
            ),
            eval_time="20m",
        ),
        Alert(
            name="AgentHighErrorRate",
            expr=(
                f"sum by ({BY}) (rate({names.ERRORS}{{{agent}}}[5m]))\n  /\n"
                f"sum by ({BY}) (rate({names.REQUESTS}{{{agent}}}[5m]))\n"
                f"> {_num(error_ratio)}"
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
            fired_labels=by_agent,
            fire=(
                Series(names.REQUESTS, {**requests, "status": "error"}, "0+60x30"),
                Series(names.ERRORS, {**sample, "error_type": "RuntimeError"}, "0+60x30"),
            ),
            quiet=(
                Series(names.REQUESTS, {**requests, "status": "success"}, "0+60x30"),
                Series(names.ERRORS, {**sample, "error_type": "RuntimeError"}, "0+0x30"),
            ),
            eval_time="20m",
        ),
        Alert(
            name="AgentAvailabilityBudgetBurn",
            expr=(
                f"(\n{rate_ratio('1h')}\n) > {_num(burn)}\n"
                f"and\n(\n{rate_ratio('5m')}\n) > {_num(burn)}"
            ),
            duration="2m",
            labels={"severity": "critical", "slo": "availability"},
            annotations={
                "summary": "Agent {{ $labels.agent_id }} is spending its error budget too fast",
                "description": (
                    "At the failure rate of the last hour, {{ $labels.agent_id }} in "
                    "{{ $labels.namespace }} spends its "
                    f"{_num(slo.availability_percent)} % availability budget "
                    f"{_num(BURN_RATE)} times too fast."
                ),
            },
            fired_labels=by_agent,
            fire=(Series(names.REQUESTS, {**requests, "status": "error"}, "0+60x90"),),
            quiet=(Series(names.REQUESTS, {**requests, "status": "success"}, "0+60x90"),),
            eval_time="80m",
        ),
        Alert(
            name="AgentPodCrashLooping",
            expr=f"increase(kube_pod_container_status_restarts_total{{{pods}}}[10m]) > 3",
            duration="5m",
            labels={"severity": "critical", "slo": "availability"},
            annotations={
                "summary": "Agent pod {{ $labels.pod }} is crash looping",
                "description": (
                    "{{ $labels.pod }} in {{ $labels.namespace }} restarted more than "
                    "3 times in 10 minutes."
                ),
            },
            fired_labels={**kube},
            fire=(Series("kube_pod_container_status_restarts_total", kube, "0+1x30"),),
            quiet=(Series("kube_pod_container_status_restarts_total", kube, "0+0x30"),),
            eval_time="20m",
        ),
        Alert(
            name="AgentMemoryPressure",
            expr=(
                f"max by (namespace, pod) (container_memory_working_set_bytes{{{pods}}})\n"
                f"  /\nmax by (namespace, pod) (container_spec_memory_limit_bytes{{{pods}}} > 0)\n"
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
            fired_labels=by_pod,
            fire=(
                Series("container_memory_working_set_bytes", kube, "950+0x30"),
                Series("container_spec_memory_limit_bytes", kube, "1000+0x30"),
            ),
            quiet=(
                Series("container_memory_working_set_bytes", kube, "500+0x30"),
                Series("container_spec_memory_limit_bytes", kube, "1000+0x30"),
            ),
            eval_time="20m",
        ),
        Alert(
            name="AgentCPUThrottling",
            expr=(
                "sum by (namespace, pod) "
                f"(rate(container_cpu_cfs_throttled_periods_total{{{pods}}}[5m]))\n  /\n"
                f"sum by (namespace, pod) (rate(container_cpu_cfs_periods_total{{{pods}}}[5m]))\n"
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
            fired_labels=by_pod,
            fire=(
                Series("container_cpu_cfs_throttled_periods_total", kube, "0+50x40"),
                Series("container_cpu_cfs_periods_total", kube, "0+100x40"),
            ),
            quiet=(
                Series("container_cpu_cfs_throttled_periods_total", kube, "0+0x40"),
                Series("container_cpu_cfs_periods_total", kube, "0+100x40"),
            ),
            eval_time="30m",
        ),
    ]
