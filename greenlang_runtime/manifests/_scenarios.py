"""The types of the rules' unit-test scenarios, and the labels of one agent's series."""

from __future__ import annotations

from dataclasses import dataclass, field

from greenlang_runtime.manifests._meta import CONTAINER, pod_pattern
from greenlang_runtime.spec import NAMESPACE_SUFFIXES, AgentSpec

__all__ = [
    "Alert",
    "Check",
    "Recording",
    "Sample",
    "Scenario",
    "Series",
    "agent_matchers",
    "sample_labels",
]


@dataclass(frozen=True, slots=True)
class Series:
    """One input series of a rule unit test, in promtool's expanding notation."""

    name: str
    labels: dict[str, str]
    values: str


@dataclass(frozen=True, slots=True)
class Check:
    """At ``at``, ``alert`` is firing (``fires``) or not; ``shown`` fills its ``$value`` text."""

    at: str
    alert: str
    fires: bool
    # Annotation template snippet -> the text it renders to, worked out by hand.
    shown: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Scenario:
    """Input series and the alert states expected on them (a comment says why)."""

    why: str
    series: tuple[Series, ...]
    checks: tuple[Check, ...]
    interval: str = "1m"
    # How often promtool evaluates the rules: one value per test file.
    evaluation: str = "1m"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alerting rule and the scenarios that show it fires when, and only when, it should."""

    name: str
    expr: str
    duration: str
    labels: dict[str, str]
    annotations: dict[str, str]
    # The labels of the alert that fires (besides ``labels``).
    fired_labels: dict[str, str]
    scenarios: tuple[Scenario, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    """The labels the synthetic series of one agent carry."""

    namespace: str
    pod: str
    agent: dict[str, str]
    requests: dict[str, str]
    kube: dict[str, str]
    by_agent: dict[str, str]
    by_pod: dict[str, str]


def sample_labels(spec: AgentSpec) -> Sample:
    """Labels of the agent's series as scraped in production (one pod)."""
    namespace = f"{spec.tenant}-{NAMESPACE_SUFFIXES['production']}"
    pod = f"{spec.agent_id}-5d8f7c9b6-x2k4p"
    ident = {"agent_id": spec.agent_id, "tenant_id": spec.tenant}
    agent = {**ident, "version": spec.version, "namespace": namespace, "pod": pod}
    return Sample(
        namespace=namespace,
        pod=pod,
        agent=agent,
        requests={**agent, "capability": "calculate"},
        kube={"namespace": namespace, "pod": pod, "container": CONTAINER},
        by_agent={"namespace": namespace, **ident},
        by_pod={"namespace": namespace, "pod": pod},
    )


def agent_matchers(spec: AgentSpec) -> dict[str, str]:
    """Label matchers shared by the rules of one agent: its own series, its own pods."""
    suffixes = "|".join(NAMESPACE_SUFFIXES.values())
    return {
        "agent": f'agent_id="{spec.agent_id}", tenant_id="{spec.tenant}"',
        "pods": (
            f'container="{CONTAINER}", namespace=~"{spec.tenant}-({suffixes})", '
            f'pod=~"{pod_pattern(spec)}"'
        ),
    }


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording rule and an input with the value it must record, worked out by hand."""

    record: str
    expr: str
    inputs: tuple[Series, ...] = ()
    expected: dict[str, str] = field(default_factory=dict)
    expected_value: float = 0.0
    eval_time: str = "10m"
