"""`http-port` and `metrics-port`: every place that names a port moves with the spec."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from greenlang_runtime.config import Settings
from greenlang_runtime.exceptions import SpecError
from greenlang_runtime.manifests import render_tree
from tests.manifests.conftest import make_spec


def _ports(**table: Any) -> dict[str, Any]:
    """Every port the rendered base names, by where it is named."""
    files = render_tree(make_spec(**table))
    deployment = yaml.safe_load(files["base/deployment.yaml"])
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    numbered = {port["name"]: port["containerPort"] for port in container["ports"]}
    service = yaml.safe_load(files["base/service.yaml"])["spec"]["ports"]
    policy = yaml.safe_load(files["base/networkpolicy.yaml"])["spec"]["ingress"]
    config = yaml.safe_load(files["base/configmap.yaml"])["data"]
    monitor = yaml.safe_load(files["base/servicemonitor.yaml"])["spec"]["endpoints"][0]
    return {
        "container": numbered,
        # Probes, Service and ServiceMonitor name the ports; the names resolve
        # to the container's numbers above.
        "probes": {
            probe: container[probe]["httpGet"]["port"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe")
        },
        "service": {port["name"]: (port["port"], port["targetPort"]) for port in service},
        "servicemonitor": monitor["port"],
        "networkpolicy": [rule["ports"][0]["port"] for rule in policy],
        "annotation": pod["metadata"]["annotations"]["prometheus.io/port"],
        "settings": (config["GL_HTTP_PORT"], config["GL_METRICS_PORT"]),
    }


def test_defaults_are_the_runtimes_own() -> None:
    """8000 and 9090 by default: the runtime's defaults, so an unset spec changes nothing."""
    assert (Settings().http_port, Settings().metrics_port) == (8000, 9090)
    ports = _ports()
    assert ports["container"] == {"http": 8000, "metrics": 9090}
    assert ports["settings"] == ("8000", "9090")
    assert ports["networkpolicy"] == [8000, 8000, 9090]


def test_every_port_moves_together() -> None:
    """http-port 8080, metrics-port 9100: container, probes, Service, monitor, policy, config."""
    ports = _ports(**{"http-port": 8080, "metrics-port": 9100})
    assert ports == {
        "container": {"http": 8080, "metrics": 9100},
        "probes": {"startupProbe": "http", "readinessProbe": "http", "livenessProbe": "http"},
        "service": {"http": (80, "http"), "metrics": (9100, "metrics")},
        "servicemonitor": "metrics",
        "networkpolicy": [8080, 8080, 9100],
        "annotation": "9100",
        "settings": ("8080", "9100"),
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"http-port": 0}, "http-port=0 is invalid: it must be a whole number from 1 to 65535"),
        (
            {"metrics-port": 65536},
            "metrics-port=65536 is invalid: it must be a whole number from 1 to 65535",
        ),
        (
            {"http-port": "8080"},
            "http-port='8080' is invalid: it must be a whole number from 1 to 65535",
        ),
        (
            {"http-port": 9090},
            "metrics-port=9090 is invalid: it must differ from http-port (9090)",
        ),
    ],
)
def test_a_bad_port_is_one_line_naming_the_field(table: dict[str, Any], message: str) -> None:
    """Out of range, not a number, or both ports the same."""
    with pytest.raises(SpecError) as caught:
        make_spec(**table)
    assert str(caught.value) == f"pyproject.toml [tool.greenlang-runtime] {message}."
    assert "\n" not in str(caught.value)
