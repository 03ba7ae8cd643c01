"""The rules as a plain rules file, and the unit tests ``promtool test rules`` runs on it."""

from __future__ import annotations

import re

from greenlang_runtime.manifests._meta import Document
from greenlang_runtime.manifests.alerts import Alert, Series, alerts
from greenlang_runtime.manifests.rules import recordings, rule_groups
from greenlang_runtime.spec import AgentSpec

__all__ = ["RULES_FILE", "rules_file", "rules_tests"]

RULES_FILE = "rules.yaml"
_LABEL_REF = re.compile(r"\{\{ \$labels\.(\w+) \}\}")


def rules_file(spec: AgentSpec) -> Document:
    """The PrometheusRule's groups as promtool and Prometheus read them from a file."""
    return {"groups": rule_groups(spec)}


def rules_tests(spec: AgentSpec) -> Document:
    """A firing and a quiet case for every alert, and a value for every recording rule."""
    tests: list[Document] = []
    for alert in alerts(spec):
        tests.append(_alert_test(spec, alert, fires=True))
        tests.append(_alert_test(spec, alert, fires=False))
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


def _alert_test(spec: AgentSpec, alert: Alert, *, fires: bool) -> Document:
    expected: list[Document] = []
    if fires:
        labels = {
            **alert.fired_labels,
            **alert.labels,
            "agent_id": spec.agent_id,
            "tenant_id": spec.tenant,
        }
        expected.append(
            {
                "exp_labels": labels,
                "exp_annotations": {
                    key: _LABEL_REF.sub(lambda m: labels[m[1]], text)
                    for key, text in alert.annotations.items()
                },
            }
        )
    return {
        "interval": "1m",
        "input_series": [_series(s) for s in (alert.fire if fires else alert.quiet)],
        "alert_rule_test": [
            {"eval_time": alert.eval_time, "alertname": alert.name, "exp_alerts": expected}
        ],
    }


def _series(series: Series) -> Document:
    return {
        "series": _selector({"__name__": series.name, **series.labels}),
        "values": series.values,
    }


def _selector(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
    return f"{name}{{{rest}}}"
