"""[tool.greenlang-runtime.llm-budget]: checked, rendered into the ConfigMap, alerts, dashboard."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.manifests import render_tree
from tests.manifests.conftest import make_spec

BUDGET = {"usd": 250, "period": "month", "scope": "agent"}
RUNBOOK = Path(__file__).parents[2] / "docs" / "runbook.md"


def _config(files: dict[str, str]) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(files["base/configmap.yaml"])["data"]
    return data


def test_the_budget_renders_into_the_configmap() -> None:
    """usd, period and scope become GL_LLM_BUDGET_USD, _PERIOD and _SCOPE; none without a budget."""
    data = _config(render_tree(make_spec(**{"llm-budget": BUDGET})))
    assert data["GL_LLM_BUDGET_USD"] == "250"
    assert data["GL_LLM_BUDGET_PERIOD"] == "month"
    assert data["GL_LLM_BUDGET_SCOPE"] == "agent"
    defaults = _config(render_tree(make_spec(**{"llm-budget": {"usd": 12.5}})))
    assert (defaults["GL_LLM_BUDGET_USD"], defaults["GL_LLM_BUDGET_PERIOD"]) == ("12.5", "day")
    assert defaults["GL_LLM_BUDGET_SCOPE"] == "tenant"
    assert not any(key.startswith("GL_LLM_BUDGET") for key in _config(render_tree(make_spec())))


@pytest.mark.parametrize(
    ("table", "field", "complaint"),
    [
        ({"llm-budget": BUDGET, "dependencies": ["postgres"]}, "llm-budget", '"redis"'),
        ({"llm-budget": {"usd": 0}}, "llm-budget.usd", "above 0"),
        ({"llm-budget": {"usd": "ten"}}, "llm-budget.usd", ""),
        ({"llm-budget": {"period": "day"}}, "llm-budget.usd", "required"),
        ({"llm-budget": {"usd": 5, "period": "week"}}, "llm-budget.period", "day, month"),
        ({"llm-budget": {"usd": 5, "scope": "team"}}, "llm-budget.scope", "tenant, agent"),
        ({"llm-budget": {"usd": 5, "limit": 3}}, "llm-budget.limit", "usd, period, scope"),
    ],
)
def test_a_bad_budget_is_a_spec_error_naming_the_field(
    table: dict[str, object], field: str, complaint: str
) -> None:
    """A budget without redis among the dependencies, or a bad value: one SpecError naming it."""
    with pytest.raises(SpecError) as caught:
        make_spec(**table)
    assert caught.value.field == field
    assert complaint in str(caught.value)


def test_the_dashboard_shows_the_budget_used() -> None:
    """A 'LLM budget used' panel (spent over limit, red from 80 %) only with a budget."""
    files = render_tree(make_spec(**{"llm-budget": BUDGET}))
    board = json.loads(yaml.safe_load(files["base/dashboard.yaml"])["data"]["cbam-calculator.json"])
    used = [panel for panel in board["panels"] if panel.get("title") == "LLM budget used"]
    assert len(used) == 1
    expr = used[0]["targets"][0]["expr"]
    assert "agent_llm_budget_spent_usd" in expr
    assert "agent_llm_budget_limit_usd" in expr
    steps = used[0]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1]["value"] == 0.8
    plain = render_tree(make_spec())["base/dashboard.yaml"]
    assert "agent_llm_budget" not in plain


def test_each_budget_alert_has_a_runbook_entry() -> None:
    """Both budget alerts are in the PrometheusRule, each with its section on docs/runbook.md."""
    files = render_tree(make_spec(**{"llm-budget": BUDGET}))
    rules = yaml.safe_load(files["promtool/rules.yaml"])
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    budget = {"AgentLLMBudgetAlmostSpent", "AgentLLMBudgetExhausted"}
    assert budget <= alerts
    headings = set(re.findall(r"^## (\S+)$", RUNBOOK.read_text(), re.MULTILINE))
    assert budget <= headings
    plain = yaml.safe_load(render_tree(make_spec())["promtool/rules.yaml"])
    assert not budget & {r.get("alert") for g in plain["groups"] for r in g["rules"]}


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_the_budget_alerts_pass_their_rule_tests(tmp_path: Path) -> None:
    """promtool: AlmostSpent fires at 9 of 10 USD, not at 7; Exhausted only while refusing."""
    files = render_tree(make_spec(**{"llm-budget": BUDGET}))
    names = [name for name in files if name.startswith("promtool/")]
    for name in names:
        (tmp_path / Path(name).name).write_text(files[name])
    tests = [Path(name).name for name in names if name.endswith(".test.yaml")]
    quick = yaml.safe_load((tmp_path / "rules.test.yaml").read_text())
    cases = [case for test in quick["tests"] for case in test.get("alert_rule_test", [])]
    assert {"AgentLLMBudgetAlmostSpent", "AgentLLMBudgetExhausted"} <= {
        case["alertname"] for case in cases
    }
    tested = subprocess.run(
        ["promtool", "test", "rules", *tests], cwd=tmp_path, capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
