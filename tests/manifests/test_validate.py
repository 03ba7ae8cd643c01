"""Every rendered object validates: strict Kubernetes schemas (1.30, 1.37) and CRD schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from greenlang_runtime.manifests import render_tree
from tests.manifests.conftest import kustomize, make_spec

pytestmark = pytest.mark.integration

KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
CORE_GROUPS = {"", "apps", "autoscaling", "policy", "networking.k8s.io"}
# The repository sits next to the shared folder: ../shared/schemas/crds from its root.
CRDS = Path(__file__).resolve().parents[2].parent / "shared" / "schemas" / "crds"


def _write(files: dict[str, str], root: Path) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


def _crd_errors(doc: dict[str, Any]) -> list[str]:
    group, _, version = doc["apiVersion"].rpartition("/")
    path = CRDS / group / f"{doc['kind'].lower()}_{version}.json"
    assert path.is_file(), f"no CRD schema for {doc['apiVersion']} {doc['kind']} at {path}"
    schema = json.loads(path.read_text())
    # The schemas hold Go regexes (e.g. "(?i)") that Python's re cannot compile,
    # so the schema itself is not format-checked; the document is.
    validator = validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def _validate(doc: dict[str, Any]) -> None:
    group = doc["apiVersion"].rpartition("/")[0]
    name = f"{doc['kind']}/{doc['metadata']['name']}"
    if group in CORE_GROUPS:
        for version in KUBERNETES_VERSIONS:
            # A missing schema raises SchemaNotFoundError: a failure for a core kind.
            kubernetes_validate.validate(doc, version, strict=True)
        return
    if not CRDS.is_dir():
        pytest.skip(f"the CRD schemas are not at {CRDS}")
    assert _crd_errors(doc) == [], name


@pytest.mark.parametrize("rollout", ["rolling", "canary", "blue-green"])
def test_every_object_of_every_overlay_validates(tmp_path: Path, rollout: str) -> None:
    """Each overlay's build and the platform objects pass strict validation."""
    spec = make_spec(rollout=rollout)
    root = _write(render_tree(spec), tmp_path)
    kinds: set[str] = set()
    for environment in ("development", "staging", "production"):
        for doc in kustomize(root / "overlays" / environment):
            _validate(doc)
            kinds.add(doc["kind"])
    for path in sorted((root / "platform").iterdir()):
        for doc in yaml.safe_load_all(path.read_text()):
            _validate(doc)
            kinds.add(doc["kind"])
    workload = {"rolling": {"Deployment"}, "canary": {"Rollout", "AnalysisTemplate"}}
    expected = {
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "HorizontalPodAutoscaler",
        "VerticalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ServiceMonitor",
        "PrometheusRule",
        "Application",
        *workload.get(rollout, {"Rollout", "AnalysisTemplate"}),
    }
    assert kinds == expected


def test_a_broken_object_is_caught() -> None:
    """The validators used above reject what the API server would: they can fail."""
    spec = make_spec()
    deployment = yaml.safe_load(render_tree(spec)["base/deployment.yaml"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["period"] = 10
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.37.0", strict=True)
    rule = yaml.safe_load(render_tree(spec)["base/prometheusrule.yaml"])
    rule["spec"]["groups"][0]["rules"][0]["for"] = 5
    if not CRDS.is_dir():
        pytest.skip(f"the CRD schemas are not at {CRDS}")
    assert _crd_errors(rule) != []


def test_the_pod_needs_no_prestop_hook() -> None:
    """The pod has no preStop hook: the runtime itself serves through the pre-stop delay."""
    deployment = yaml.safe_load(render_tree(make_spec())["base/deployment.yaml"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "lifecycle" not in container
