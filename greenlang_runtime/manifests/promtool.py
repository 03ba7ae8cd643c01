"""The rules as a plain rules file, and the unit tests ``promtool test rules`` runs on it."""

from __future__ import annotations

import re

from greenlang_runtime.manifests._meta import Document
from greenlang_runtime.manifests._scenarios import Alert, Check, Scenario, Series
from greenlang_runtime.manifests.alerts import alerts
from greenlang_runtime.manifests.burn_alerts import outage_scenario, three_day_scenario
from greenlang_runtime.manifests.rules import recordings, rule_groups
from greenlang_runtime.spec import AgentSpec

__all__ = ["RULES_FILE", "SLO_TEST_FILES", "rules_file", "rules_tests", "slo_tests"]

RULES_FILE = "rules.yaml"
# The long burn scenarios, each in a file of its own: a file has one evaluation interval.
SLO_TEST_FILES = ("slo-outage.test.yaml", "slo-3d.test.yaml")
_LABEL_REF = re.compile(r"\{\{ \$labels\.(\w+) \}\}")


def rules_file(spec: AgentSpec) -> Document:
    """The PrometheusRule's groups as promtool and Prometheus read them from a file."""
    return {"groups": rule_groups(spec)}


def rules_tests(spec: AgentSpec) -> Document:
    """Every alert's scenarios (firing and quiet), and a value for every recording rule."""
    tests: list[Document] = []
    every = alerts(spec)
    by_name = {alert.name: alert for alert in every}
    for alert in every:
        for scenario in alert.scenarios:
            tests.append(_scenario_test(spec, scenario, by_name))
    for recording in recordings(spec):
        labels = {"__name__": recording.record, **recording.expected}
        tests.append(
            {
                "interval": "1m",
                "input_series": [_series(s) for s in recording.inputs],
                "promql_expr_test": [
                    {
                        "expr": recording.record,
                        "eval_time": recording.eval_time,
                        "exp_samples": [
                            {"labels": _selector(labels), "value": recording.expected_value}
                        ],
                    }
                ],
            }
        )
    return {"rule_files": [RULES_FILE], "evaluation_interval": "1m", "tests": tests}


def slo_tests(spec: AgentSpec) -> dict[str, Document]:
    """The outage and the 3-day burn scenarios, by file name, each at its own interval."""
    by_name = {alert.name: alert for alert in alerts(spec)}
    scenarios = (outage_scenario(spec), three_day_scenario(spec))
    return {
        name: {
            "rule_files": [RULES_FILE],
            "evaluation_interval": scenario.evaluation,
            "tests": [_scenario_test(spec, scenario, by_name)],
        }
        for name, scenario in zip(SLO_TEST_FILES, scenarios, strict=True)
    }


def _scenario_test(spec: AgentSpec, scenario: Scenario, by_name: dict[str, Alert]) -> Document:
    return {
        "name": scenario.why,
        "interval": scenario.interval,
        "input_series": [_series(s) for s in scenario.series],
        "alert_rule_test": [
            {
                "eval_time": check.at,
                "alertname": check.alert,
                "exp_alerts": [_expected(spec, by_name[check.alert], check)] if check.fires else [],
            }
            for check in scenario.checks
        ],
    }


def _expected(spec: AgentSpec, alert: Alert, check: Check) -> Document:
    labels = {
        **alert.fired_labels,
        **alert.labels,
        "agent_id": spec.agent_id,
        "tenant_id": spec.tenant,
    }
    annotations = {}
    for key, text in alert.annotations.items():
        for template, shown in check.shown.items():
            text = text.replace(template, shown)
        annotations[key] = _LABEL_REF.sub(lambda m: labels[m[1]], text)
    return {"exp_labels": labels, "exp_annotations": annotations}


def _series(series: Series) -> Document:
    return {
        "series": _selector({"__name__": series.name, **series.labels}),
        "values": series.values,
    }


def _selector(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
    return f"{name}{{{rest}}}"
