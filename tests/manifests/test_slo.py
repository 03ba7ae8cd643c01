"""The SLO rules' shape: recorded windows, burn alerts over recordings only, the latency bound."""

from __future__ import annotations

import re
from typing import Any

import pytest

from greenlang_runtime.manifests.rules import rule_groups
from tests.manifests.conftest import make_spec

_RAW_RANGE = re.compile(r"(?<![\w:])(agent_[a-z0-9_]+)\{[^}]*\}\[(\w+)\]")
_BURN = (
    "AgentAvailabilityBudgetBurnFast",
    "AgentAvailabilityBudgetBurnSlow",
    "AgentLatencyBudgetBurnFast",
    "AgentLatencyBudgetBurnSlow",
)


def _slo_rules(**table: object) -> list[dict[str, Any]]:
    groups = {group["name"]: group["rules"] for group in rule_groups(make_spec(**table))}
    return [*groups["cbam-calculator.slo"], *groups["cbam-calculator.slo-budget"]]


def test_every_sli_records_its_ratio_over_the_seven_windows() -> None:
    """5m, 30m, 1h, 2h, 6h, 1d and 3d, for availability and latency, plus the 30d budget."""
    records = {rule["record"] for rule in _slo_rules() if "record" in rule}
    for sli in ("availability", "latency"):
        for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
            assert f"tenant_agent:slo_{sli}_bad:ratio_rate{window}" in records
        assert f"tenant_agent:slo_{sli}_budget_remaining:ratio30d" in records


def test_no_slo_rule_reads_more_than_5m_of_a_raw_series() -> None:
    """Only the 5m rates read agent_* series; the burn alerts read only recorded ratios."""
    rules = _slo_rules()
    ranges = {match[1] for rule in rules for match in _RAW_RANGE.findall(rule["expr"])}
    assert ranges == {"5m"}
    alerts = {rule["alert"]: rule["expr"] for rule in rules if "alert" in rule}
    assert sorted(alerts) == sorted(_BURN)
    for expr in alerts.values():
        assert "agent_" not in expr.replace("tenant_agent:", "").replace("agent_id", "")
        assert "[" not in expr


@pytest.mark.parametrize(
    ("tier", "bound"), [("basic", "2.0"), ("standard", "1.0"), ("premium", "0.5")]
)
def test_the_latency_sli_reads_the_bucket_at_the_threshold(tier: str, bound: str) -> None:
    """basic 2 s, standard 1 s, premium 0.5 s: slow = le="+Inf" minus le at that bound."""
    [slow] = [
        rule["expr"]
        for rule in _slo_rules(**{"sla-tier": tier})
        if rule.get("record") == "tenant_agent:slo_latency_bad:rate5m"
    ]
    assert f'le="{bound}"' in slow
    assert 'le="+Inf"' in slow


def test_the_fast_alert_pages_at_14_4x_or_6x_and_the_slow_one_tickets_at_3x_or_1x() -> None:
    """standard (budget 0.1 %): the thresholds, the severities and the for of the SRE workbook."""
    alerts = {
        rule["alert"]: rule for rule in _slo_rules(**{"sla-tier": "standard"}) if "alert" in rule
    }
    fast, slow = (
        alerts["AgentAvailabilityBudgetBurnFast"],
        alerts["AgentAvailabilityBudgetBurnSlow"],
    )
    assert (fast["labels"]["severity"], fast["for"]) == ("critical", "2m")
    assert (slow["labels"]["severity"], slow["for"]) == ("warning", "15m")
    assert re.findall(r"ratio_rate(\w+)\{[^}]*\} / (\S+) > (\S+)", fast["expr"]) == [
        ("1h", "0.001", "14.4"),
        ("5m", "0.001", "14.4"),
        ("6h", "0.001", "6"),
        ("30m", "0.001", "6"),
    ]
    assert re.findall(r"ratio_rate(\w+)\{[^}]*\} / (\S+) > (\S+)", slow["expr"]) == [
        ("1d", "0.001", "3"),
        ("2h", "0.001", "3"),
        ("3d", "0.001", "1"),
        ("6h", "0.001", "1"),
    ]
    # The latency budget is 5 % of requests, whatever the tier.
    latency = alerts["AgentLatencyBudgetBurnFast"]["expr"]
    assert latency.count("/ 0.05 > ") == 4
