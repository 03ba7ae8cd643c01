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
    "AgentHighP95Latency",
    "AgentHighErrorRate",
    "AgentAvailabilityBudgetBurn",
    "AgentPodCrashLooping",
    "AgentMemoryPressure",
    "AgentCPUThrottling",
}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, check=False)


def _write_promtool(tmp_path: Path, **table: Any) -> Path:
    files = render_tree(make_spec(**table))
    for name in ("rules.yaml", "rules.test.yaml"):
        (tmp_path / name).write_text(files[f"promtool/{name}"])
    return tmp_path


@pytest.mark.parametrize("tier", ["basic", "standard", "premium"])
def test_rules_check_and_their_tests_pass(tmp_path: Path, tier: str) -> None:
    """For every SLA tier: 9 rules check, and every fire/quiet case passes."""
    root = _write_promtool(tmp_path, **{"sla-tier": tier})
    checked = _promtool("check", "rules", "rules.yaml", cwd=root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout
    tested = _promtool("test", "rules", "rules.test.yaml", cwd=root)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_firing_and_a_quiet_case(tmp_path: Path) -> None:
    """Each of the six alerts is tested once expecting an alert and once expecting none."""
    tests = yaml.safe_load(render_tree(make_spec())["promtool/rules.test.yaml"])["tests"]
    cases = [t["alert_rule_test"][0] for t in tests if "alert_rule_test" in t]
    fired = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert fired == quiet == ALERTS


def test_the_generated_tests_fail_when_a_rule_is_wrong(tmp_path: Path) -> None:
    """Raising the latency threshold past every bucket makes its firing case fail."""
    root = _write_promtool(tmp_path)
    rules = yaml.safe_load((root / "rules.yaml").read_text())
    latency = rules["groups"][0]["rules"][0]
    assert latency["alert"] == "AgentHighP95Latency"
    latency["expr"] = latency["expr"].rsplit(">", 1)[0] + "> 100"
    (root / "rules.yaml").write_text(yaml.safe_dump(rules))
    tested = _promtool("test", "rules", "rules.test.yaml", cwd=root)
    assert tested.returncode != 0
    assert "AgentHighP95Latency" in tested.stdout + tested.stderr


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
