"""The rules pass `promtool check rules`, and their generated unit tests pass and can fail."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlang_runtime.manifests import render_tree
from tests.manifests.conftest import make_spec

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed"),
]

ALERTS = {
    "AgentAvailabilityBudgetBurnFast",
    "AgentAvailabilityBudgetBurnSlow",
    "AgentLatencyBudgetBurnFast",
    "AgentLatencyBudgetBurnSlow",
    "AgentHighErrorRate",
    "AgentPodCrashLooping",
    "AgentMemoryPressure",
    "AgentCPUThrottling",
}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _write_promtool(tmp_path: Path, **table: Any) -> Path:
    files = render_tree(make_spec(**table))
    for name in ("rules.yaml", "rules.test.yaml", "slo-3d.test.yaml"):
        (tmp_path / name).write_text(files[f"promtool/{name}"])
    return tmp_path


@pytest.mark.parametrize("tier", ["basic", "standard", "premium"])
def test_rules_check_and_their_tests_pass(tmp_path: Path, tier: str) -> None:
    """For every SLA tier: 35 rules check, and every scenario of both test files passes."""
    root = _write_promtool(tmp_path, **{"sla-tier": tier})
    checked = _promtool("check", "rules", "rules.yaml", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # 2 SLIs x (2 rates + 7 ratios) + 4 burn alerts, 2 budgets, 4 alerts, 3 LLM, 4 cost.
    assert "SUCCESS: 35 rules found" in checked.stdout
    tested = _promtool("test", "rules", "rules.test.yaml", "slo-3d.test.yaml", cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _cases(files: dict[str, str]) -> list[dict[str, Any]]:
    return [
        case
        for name in ("rules.test.yaml", "slo-3d.test.yaml")
        for test in yaml.safe_load(files[f"promtool/{name}"])["tests"]
        for case in test.get("alert_rule_test", [])
    ]


def test_every_alert_has_a_firing_and_a_quiet_case(tmp_path: Path) -> None:
    """Each of the eight alerts is checked at least once firing and once not."""
    cases = _cases(render_tree(make_spec()))
    fired = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert fired == quiet == ALERTS


def test_fast_burn_alerts_page_within_5_minutes_and_slow_ones_within_7_hours() -> None:
    """The generated checks say so: Fast firing at 3m, Slow at 20m and at 7h on a 2x burn."""
    cases = _cases(render_tree(make_spec()))
    firing = {(c["alertname"], c["eval_time"]) for c in cases if c["exp_alerts"]}
    quiet = {(c["alertname"], c["eval_time"]) for c in cases if not c["exp_alerts"]}
    for sli in ("Availability", "Latency"):
        assert {(f"Agent{sli}BudgetBurnFast", "3m"), (f"Agent{sli}BudgetBurnSlow", "7h")} <= firing
        # Never a page over 3 days of a 2x burn, nor after a 10-minute outage.
        assert {(f"Agent{sli}BudgetBurnFast", t) for t in ("1d", "3d", "6h10m")} <= quiet


_QUICK, _LONG = "rules.test.yaml", "slo-3d.test.yaml"
# (what is wrong, the rule, its field, text in it, what replaces it, the test file that notices)
_WRONG = [
    (
        "latency read at the next bound",
        "tenant_agent:slo_latency_bad:rate5m",
        "expr",
        'le="0.5"',
        'le="1.0"',
        _QUICK,
    ),
    ("a fast alert waiting 5m", "AgentAvailabilityBudgetBurnFast", "for", "2m", "5m", _QUICK),
    ("a fast 6h pair at 1x pages on 2x", "AgentLatencyBudgetBurnFast", "expr", "> 6", "> 1", _LONG),
    (
        "a slow 3d pair at 2.5x misses 2x",
        "AgentAvailabilityBudgetBurnSlow",
        "expr",
        "> 1\n",
        "> 2.5\n",
        _LONG,
    ),
    (
        "a fast 1h pair at 5x pages on an outage",
        "AgentLatencyBudgetBurnFast",
        "expr",
        "> 14.4",
        "> 3",
        _QUICK,
    ),
    (
        "the CPU price off",
        "tenant_agent:cost_usd_per_hour:compute",
        "expr",
        "* 0.04",
        "* 0.05",
        _QUICK,
    ),
    (
        "the storage month in days",
        "tenant_agent:cost_usd_per_hour:storage",
        "expr",
        "/ 730",
        "/ 30",
        _QUICK,
    ),
    (
        "budget left against the wrong budget",
        "tenant_agent:slo_availability_budget_remaining:ratio30d",
        "expr",
        "/ 0.0001",
        "/ 0.001",
        _QUICK,
    ),
]


@pytest.mark.parametrize(
    ("wrong", "rule", "key", "old", "new", "test_file"), _WRONG, ids=[w[0] for w in _WRONG]
)
def test_the_generated_tests_fail_when_a_rule_is_wrong(
    tmp_path: Path, wrong: str, rule: str, key: str, old: str, new: str, test_file: str
) -> None:
    """A rule changed in one place (premium tier) makes a generated test fail, naming it."""
    root = _write_promtool(tmp_path, **{"sla-tier": "premium"})
    rules = yaml.safe_load((root / "rules.yaml").read_text())
    changed = 0
    for group in rules["groups"]:
        for entry in group["rules"]:
            if rule in (entry.get("alert"), entry.get("record")) and old in entry[key]:
                entry[key] = entry[key].replace(old, new)
                changed += 1
    assert changed == 1, wrong
    (root / "rules.yaml").write_text(yaml.safe_dump(rules))
    tested = _promtool("test", "rules", test_file, cwd=root)
    assert tested.returncode != 0, wrong
    # promtool names the alert or the record whose expectation failed.
    noticed = rule if rule.startswith("Agent") else rule.split("{")[0]
    if rule == "tenant_agent:slo_latency_bad:rate5m":
        noticed = "AgentLatencyBudgetBurnFast"
    assert noticed in tested.stdout + tested.stderr


def test_error_rate_alert_on_hand_written_series(tmp_path: Path) -> None:
    """premium (0.5 %): 1 error in 100 requests (1 %) fires; 1 in 1,000 (0.1 %) does not."""
    root = _write_promtool(tmp_path, **{"sla-tier": "premium"}, tenant="acme")
    agent = 'agent_id="cbam-calculator", tenant_id="acme", namespace="acme-prod"'
    labels = {
        "namespace": "acme-prod",
        "agent_id": "cbam-calculator",
        "tenant_id": "acme",
        "severity": "critical",
        "slo": "error-rate",
    }

    annotations = {
        "summary": "Agent cbam-calculator error rate is above its SLO",
        "description": "More than 0.5 % of the requests to cbam-calculator in acme-prod "
        "have failed for 5 minutes.",
    }

    def case(errors_per_minute: int, fires: bool) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": [
                {
                    "series": f'agent_requests_total{{{agent}, status="success"}}',
                    "values": "0+100x30",
                },
                {
                    "series": f'agent_errors_total{{{agent}, error_type="E"}}',
                    "values": f"0+{errors_per_minute}x30",
                },
            ],
            "alert_rule_test": [
                {
                    "eval_time": "20m",
                    "alertname": "AgentHighErrorRate",
                    "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations}]
                    if fires
                    else [],
                }
            ],
        }

    # 1 error a minute against 100 requests: 1 %; 0.1 a minute: 0.1 %.
    handwritten: dict[str, Any] = {"rule_files": ["rules.yaml"], "tests": [case(1, True)]}
    quiet = case(0, False)
    quiet["input_series"][1]["values"] = "0+0.1x30"
    handwritten["tests"].append(quiet)
    (root / "hand.test.yaml").write_text(yaml.safe_dump(handwritten))
    tested = _promtool("test", "rules", "hand.test.yaml", cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_crash_loop_alert_ignores_another_agents_pods(tmp_path: Path) -> None:
    """A restarting pod of cbam-calculator-v2 does not page for cbam-calculator; its own does."""
    root = _write_promtool(tmp_path, tenant="acme")

    def case(pod: str, fires: bool) -> dict[str, Any]:
        labels = {"namespace": "acme-prod", "pod": pod, "container": "agent"}
        series = "kube_pod_container_status_restarts_total{" + ", ".join(
            f'{key}="{value}"' for key, value in labels.items()
        )
        expected = {
            **labels,
            "agent_id": "cbam-calculator",
            "tenant_id": "acme",
            "severity": "critical",
            "slo": "availability",
        }
        annotations = {
            "summary": f"Agent pod {pod} is crash looping",
            "description": f"{pod} in acme-prod restarted more than 3 times in 10 minutes.",
        }
        return {
            "interval": "1m",
            # One restart a minute: 10 in any 10 minutes, more than 3.
            "input_series": [{"series": series + "}", "values": "0+1x30"}],
            "alert_rule_test": [
                {
                    "eval_time": "20m",
                    "alertname": "AgentPodCrashLooping",
                    "exp_alerts": [{"exp_labels": expected, "exp_annotations": annotations}]
                    if fires
                    else [],
                }
            ],
        }

    tests = [
        case("cbam-calculator-5d8f7c9b6-x2k4p", True),
        case("cbam-calculator-v2-5d8f7c9b6-x2k4p", False),
    ]
    (root / "pods.test.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests})
    )
    tested = _promtool("test", "rules", "pods.test.yaml", cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr
