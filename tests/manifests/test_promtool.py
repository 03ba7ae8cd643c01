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
    "AgentLLMLedgerBehind",
}


_TEST_FILES = ("rules.test.yaml", "slo-outage.test.yaml", "slo-3d.test.yaml")
_QUICK, _OUTAGE, _LONG = _TEST_FILES


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _write_promtool(tmp_path: Path, **table: Any) -> Path:
    files = render_tree(make_spec(**table))
    for name in ("rules.yaml", *_TEST_FILES):
        (tmp_path / name).write_text(files[f"promtool/{name}"])
    return tmp_path


@pytest.mark.parametrize("tier", ["basic", "standard", "premium"])
def test_rules_check_and_their_tests_pass(tmp_path: Path, tier: str) -> None:
    """For every SLA tier: 36 rules check, and every scenario of both test files passes."""
    root = _write_promtool(tmp_path, **{"sla-tier": tier})
    checked = _promtool("check", "rules", "rules.yaml", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # 2 SLIs x (2 rates + 7 ratios) + 4 burn alerts, 2 budgets, 4 alerts, the ledger's
    # alert, 3 LLM, 4 cost.
    assert "SUCCESS: 36 rules found" in checked.stdout
    tested = _promtool("test", "rules", *_TEST_FILES, cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def _cases(files: dict[str, str]) -> list[dict[str, Any]]:
    return [
        case
        for name in _TEST_FILES
        for test in yaml.safe_load(files[f"promtool/{name}"])["tests"]
        for case in test.get("alert_rule_test", [])
    ]


def test_every_alert_has_a_firing_and_a_quiet_case(tmp_path: Path) -> None:
    """Each of the nine alerts is checked at least once firing and once not."""
    cases = _cases(render_tree(make_spec()))
    fired = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert fired == quiet == ALERTS


def test_fast_burn_alerts_page_within_5_minutes_and_slow_ones_within_7_hours() -> None:
    """The generated checks say so: Fast firing at 3m, Slow at 30m and at 7h on a 2x burn."""
    cases = _cases(render_tree(make_spec()))
    firing = {(c["alertname"], c["eval_time"]) for c in cases if c["exp_alerts"]}
    quiet = {(c["alertname"], c["eval_time"]) for c in cases if not c["exp_alerts"]}
    for sli in ("Availability", "Latency"):
        assert {(f"Agent{sli}BudgetBurnFast", "3m"), (f"Agent{sli}BudgetBurnSlow", "7h")} <= firing
        # Never a page over 3 days of a 2x burn, nor after a 10-minute outage.
        assert {(f"Agent{sli}BudgetBurnFast", t) for t in ("1d", "3d", "6h10m")} <= quiet


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
        "a fast 1h pair at 1x pages on an outage",
        "AgentLatencyBudgetBurnFast",
        "expr",
        "> 14.4",
        "> 1",
        _OUTAGE,
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


def test_cost_rules_equal_hand_computed_usd_per_hour(tmp_path: Path) -> None:
    """Prices from the costs table: cAdvisor, kubelet and agent series priced by hand."""
    prices = {"cpu-hour-usd": 0.08, "memory-gib-hour-usd": 0.01, "storage-gib-month-usd": 0.2}
    root = _write_promtool(tmp_path, tenant="acme", costs=prices)
    pod = 'namespace="acme-prod", pod="cbam-calculator-5d8f7c9b6-x2k4p", container="agent"'
    other = 'namespace="acme-prod", pod="cbam-calculator-v2-5d8f7c9b6-x2k4p", container="agent"'
    gib = 1024**3
    series = [
        # 60 CPU-seconds a minute: 1 core; the other agent's 2 cores do not count.
        (f"container_cpu_usage_seconds_total{{{pod}}}", "0+60x20"),
        (f"container_cpu_usage_seconds_total{{{other}}}", "0+120x20"),
        # 4 GiB of working set.
        (f"container_memory_working_set_bytes{{{pod}}}", f"{4 * gib}+0x20"),
        (f"container_memory_working_set_bytes{{{other}}}", f"{1 * gib}+0x20"),
        # 73 GiB on the agent's claim; 100 GiB on the other agent's.
        (
            'kubelet_volume_stats_used_bytes{namespace="acme-prod", '
            'persistentvolumeclaim="cbam-calculator-data"}',
            f"{73 * gib}+0x20",
        ),
        (
            'kubelet_volume_stats_used_bytes{namespace="acme-prod", '
            'persistentvolumeclaim="cbam-calculator-v2-data"}',
            f"{100 * gib}+0x20",
        ),
        # 3 USD a minute of LLM calls.
        (
            'agent_llm_cost_usd_total{agent_id="cbam-calculator", tenant_id="acme", '
            'namespace="acme-prod", pod="cbam-calculator-5d8f7c9b6-x2k4p", '
            'provider="openai", model="gpt-4o"}',
            "0+3x20",
        ),
    ]
    expected = {
        "compute": 0.08,  # 1 core x 0.08 USD
        "memory": 0.04,  # 4 GiB x 0.01 USD
        "storage": 0.02,  # 73 GiB x 0.2 USD a month / 730 hours
        "llm": 180.0,  # 3 USD a minute x 60
    }
    labels = 'agent_id="cbam-calculator", namespace="acme-prod", tenant_id="acme"'
    test = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "promql_expr_test": [
            {
                "expr": f"tenant_agent:cost_usd_per_hour:{kind}",
                "eval_time": "10m",
                "exp_samples": [
                    {"labels": f"tenant_agent:cost_usd_per_hour:{kind}{{{labels}}}", "value": v}
                ],
            }
            for kind, v in expected.items()
        ],
    }
    (root / "cost.test.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [test]})
    )
    tested = _promtool("test", "rules", "cost.test.yaml", cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr


# After 6 hours of good traffic (1,000 requests a minute) at 99.9 % (budget 0.1 %): the bad
# share of the recorded 5m rate is 1/5, 2/5, ... of the burn's in the burn's first minutes,
# and the 1h ratio is the sum of the 61 recorded samples' bad shares over 61.
# - every request failing: 1h ratio (0.2 + 0.4) / 61 = 0.98 % at +2m, under 14.4 x 0.1 %
#   = 1.44 %; (0.2 + 0.4 + 0.6) / 61 = 1.97 % at +3m, over: pending at +3m, firing at +5m
#   (for: 2m). The 6h pair needs 6 % over 361 samples: later.
# - 20x (2 % failing): at +k minutes (k >= 5) the bad shares sum to 20 x (k - 2) budgets:
#   20 (k - 2) / 61 > 14.4 from k = 46 (20 x 44 / 61 = 14.43): pending at +46m, firing at
#   +48m; the 6h pair needs 20 (k - 2) / 361 > 6, k >= 111.
_AFTER_GOOD_HOURS = [
    ("every request failing", 1000, "4m", "5m"),
    ("a 20x burn", 20, "47m", "48m"),
]


@pytest.mark.parametrize(
    ("case", "failed", "quiet_at", "firing_at"),
    _AFTER_GOOD_HOURS,
    ids=[case[0] for case in _AFTER_GOOD_HOURS],
)
def test_fast_availability_alert_detection_time_after_good_hours(
    tmp_path: Path, case: str, failed: int, quiet_at: str, firing_at: str
) -> None:
    """standard: a full outage pages 5 minutes in, a 20x burn 48 minutes in."""
    root = _write_promtool(tmp_path, **{"sla-tier": "standard"}, tenant="acme")
    labels = (
        'agent_id="cbam-calculator", tenant_id="acme", namespace="acme-prod", '
        'pod="cbam-calculator-5d8f7c9b6-x2k4p"'
    )
    good, bad = 1000 - failed, failed
    series = [
        {
            "series": f'agent_requests_total{{{labels}, status="success"}}',
            "values": f"0+1000x360 {360_000 + good}+{good}x70",
        },
        {
            "series": f'agent_requests_total{{{labels}, status="error"}}',
            "values": f"0+0x360 {bad}+{bad}x70",
        },
    ]
    alert = 'ALERTS{alertname="AgentAvailabilityBudgetBurnFast", alertstate="firing"}'
    fired = (
        'ALERTS{agent_id="cbam-calculator", alertname="AgentAvailabilityBudgetBurnFast", '
        'alertstate="firing", namespace="acme-prod", severity="critical", '
        'slo="availability", tenant_id="acme"}'
    )

    def at(offset: str) -> str:
        return f"6h{offset}"

    test = {
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [
            {"expr": alert, "eval_time": at(quiet_at), "exp_samples": []},
            {
                "expr": alert,
                "eval_time": at(firing_at),
                "exp_samples": [{"labels": fired, "value": 1}],
            },
        ],
    }
    (root / "detect.test.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": [test]})
    )
    tested = _promtool("test", "rules", "detect.test.yaml", cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr
