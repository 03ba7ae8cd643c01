"""Per-tenant cost recording rules: compute, memory, storage and LLM, in USD per hour.

One series per agent and namespace, labelled ``tenant_id`` (from the namespace
``<tenant>-<env>``) and ``agent_id``. Each agent's rules select only its own
pods (:func:`~greenlang_runtime.manifests._meta.pod_pattern`) and claims, so a
tenant's total is ``sum by (tenant_id)`` and no two agents record one series.
Unit prices come from ``[tool.greenlang-runtime.costs]``.
"""

from __future__ import annotations

from greenlang_runtime import metric_names as names
from greenlang_runtime.manifests._scenarios import Recording, Series, agent_matchers, sample_labels
from greenlang_runtime.spec import NAMESPACE_SUFFIXES, AgentSpec

__all__ = ["COST_RECORD", "HOURS_PER_MONTH", "claim_pattern", "cost_recordings"]

COST_RECORD = "tenant_agent:cost_usd_per_hour"
# A storage price is per GiB-month; Kubernetes cost tools count a month as 730 hours.
HOURS_PER_MONTH = 730
_GIB = 1024**3
_OTHER_AGENT = "-v2"


def claim_pattern(spec: AgentSpec) -> str:
    """The agent's PersistentVolumeClaims: ``<agent-id>-<name>``, one segment after the id."""
    return f"{spec.agent_id}-[a-z0-9]+"


def _labelled(expr: str, spec: AgentSpec) -> str:
    """``expr`` (by namespace) with ``tenant_id`` from the namespace and ``agent_id`` set."""
    suffixes = "|".join(NAMESPACE_SUFFIXES.values())
    tenant = f'label_replace({expr}, "tenant_id", "$1", "namespace", "(.+)-({suffixes})")'
    return f'label_replace({tenant}, "agent_id", "{spec.agent_id}", "", "")'


def cost_recordings(spec: AgentSpec) -> list[Recording]:
    """The four cost rules, each with synthetic series and its USD per hour worked out by hand."""
    pods = agent_matchers(spec)["pods"]
    agent = agent_matchers(spec)["agent"]
    sample = sample_labels(spec)
    prices = spec.costs
    other_pod = sample.pod.replace(spec.agent_id, spec.agent_id + _OTHER_AGENT)
    other = {**sample.kube, "pod": other_pod}
    claims = (
        f'namespace=~"{spec.tenant}-({"|".join(NAMESPACE_SUFFIXES.values())})", '
        f'persistentvolumeclaim=~"{claim_pattern(spec)}"'
    )
    volume = {"namespace": sample.namespace}
    ident = {"namespace": sample.namespace, "tenant_id": spec.tenant, "agent_id": spec.agent_id}
    cpu, memory, used = (
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kubelet_volume_stats_used_bytes",
    )
    return [
        # 30 CPU-seconds a minute is half a core: 0.5 * cpu-hour-usd per hour. The other
        # agent's pod (3 cores) must not count.
        Recording(
            record=f"{COST_RECORD}:compute",
            expr=_labelled(f"sum by (namespace) (rate({cpu}{{{pods}}}[5m]))", spec)
            + f" * {prices.cpu_hour_usd:g}",
            inputs=(Series(cpu, sample.kube, "0+30x20"), Series(cpu, other, "0+180x20")),
            expected=ident,
            expected_value=0.5 * prices.cpu_hour_usd,
        ),
        # 2 GiB of working set: 2 * memory-gib-hour-usd per hour.
        Recording(
            record=f"{COST_RECORD}:memory",
            expr=_labelled(f"sum by (namespace) ({memory}{{{pods}}})", spec)
            + f" / {_GIB} * {prices.memory_gib_hour_usd:g}",
            inputs=(
                Series(memory, sample.kube, f"{2 * _GIB}+0x20"),
                Series(memory, other, f"{8 * _GIB}+0x20"),
            ),
            expected=ident,
            expected_value=2 * prices.memory_gib_hour_usd,
        ),
        # 10 GiB used on the agent's claim: 10 GiB-months cost 10 * storage-gib-month-usd,
        # spread over the 730 hours of a month. Another agent's claim does not count.
        Recording(
            record=f"{COST_RECORD}:storage",
            expr=_labelled(f"sum by (namespace) ({used}{{{claims}}})", spec)
            + f" / {_GIB} * {prices.storage_gib_month_usd:g} / {HOURS_PER_MONTH}",
            inputs=(
                Series(
                    used,
                    {**volume, "persistentvolumeclaim": f"{spec.agent_id}-data"},
                    f"{10 * _GIB}+0x20",
                ),
                Series(
                    used,
                    {**volume, "persistentvolumeclaim": f"{spec.agent_id}{_OTHER_AGENT}-data"},
                    f"{50 * _GIB}+0x20",
                ),
            ),
            expected=ident,
            expected_value=10 * prices.storage_gib_month_usd / HOURS_PER_MONTH,
        ),
        # 0.5 USD a minute of LLM calls is 30 USD an hour.
        Recording(
            record=f"{COST_RECORD}:llm",
            expr=f"sum by (namespace, agent_id, tenant_id) "
            f"(rate({names.LLM_COST}{{{agent}}}[5m])) * 3600",
            inputs=(
                Series(
                    names.LLM_COST,
                    {**sample.agent, "provider": "openai", "model": "gpt-4o"},
                    "0+0.5x20",
                ),
            ),
            expected=ident,
            expected_value=30.0,
        ),
    ]
