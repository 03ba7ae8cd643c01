"""The deploy/ tree: a namespace-free base, overlays that build each environment exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from greenlang_runtime.manifests import environment_documents, render_stream, render_tree
from tests.manifests.conftest import DIGEST, kustomize, make_spec

pytestmark = pytest.mark.integration

ENVIRONMENTS = ("development", "staging", "production")


def _write(files: dict[str, str], root: Path) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


@pytest.mark.parametrize("rollout", ["rolling", "canary", "blue-green"])
def test_each_overlay_builds_what_the_spec_renders_for_it(tmp_path: Path, rollout: str) -> None:
    """`kubectl kustomize overlays/ENV` equals the objects rendered for ENV, object by object."""
    spec = make_spec(rollout=rollout)
    root = _write(render_tree(spec), tmp_path)
    for environment in ENVIRONMENTS:
        built = kustomize(root / "overlays" / environment)
        expected = environment_documents(spec.for_environment(environment))
        key = lambda doc: (doc["kind"], doc["metadata"]["name"])  # noqa: E731
        assert sorted(built, key=key) == sorted(expected, key=key)


def test_overlays_differ_where_the_spec_says(tmp_path: Path) -> None:
    """Development runs 1-2 replicas on 100m in acme-dev; production 3-10, pinned by digest."""
    root = _write(render_tree(make_spec(tenant="acme")), tmp_path)
    by_kind = {
        env: {doc["kind"]: doc for doc in kustomize(root / "overlays" / env)}
        for env in ENVIRONMENTS
    }
    dev, prod = by_kind["development"], by_kind["production"]
    assert {doc["metadata"]["namespace"] for doc in dev.values()} == {"acme-dev"}
    assert {doc["metadata"]["namespace"] for doc in prod.values()} == {"acme-prod"}
    assert dev["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 1
    assert dev["HorizontalPodAutoscaler"]["spec"]["maxReplicas"] == 2
    assert prod["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert prod["HorizontalPodAutoscaler"]["spec"]["maxReplicas"] == 10
    dev_agent = dev["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    prod_agent = prod["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert dev_agent["resources"]["requests"]["cpu"] == "100m"
    assert prod_agent["resources"]["requests"]["cpu"] == "250m"
    assert dev_agent["image"] == "registry.greenlang.io/acme/cbam-calculator:2.3.1"
    assert prod_agent["image"] == f"registry.greenlang.io/acme/cbam-calculator@{DIGEST}"
    assert {"name": "ENVIRONMENT", "value": "development"} in dev_agent["env"]
    assert {"name": "ENVIRONMENT", "value": "production"} in prod_agent["env"]
    assert by_kind["staging"]["Deployment"]["metadata"]["namespace"] == "acme-staging"


def test_base_sets_no_namespace_and_lists_every_file() -> None:
    """No base object names a namespace; the kustomization lists every base file once."""
    files = render_tree(make_spec())
    base = {path for path in files if path.startswith("base/")}
    kustomization = yaml.safe_load(files["base/kustomization.yaml"])
    assert sorted(f"base/{name}" for name in kustomization["resources"]) == sorted(
        base - {"base/kustomization.yaml"}
    )
    for path in base - {"base/kustomization.yaml"}:
        assert "namespace" not in yaml.safe_load(files[path])["metadata"], path


def test_one_environment_renders_only_its_overlay() -> None:
    """With one environment the tree holds the base, that overlay, its Application and promtool."""
    files = render_tree(make_spec(), ("staging",))
    assert {path.split("/")[0] for path in files} == {"base", "overlays", "platform", "promtool"}
    assert {path.split("/")[1] for path in files if path.startswith("overlays/")} == {"staging"}
    assert sorted(path for path in files if path.startswith("platform/")) == [
        "platform/argocd-staging.yaml",
        "platform/prometheus-adapter-rules.yaml",
    ]


def test_stream_holds_every_object_of_the_environment_once() -> None:
    """--output - for production: its objects in acme-prod, then the platform's own."""
    spec = make_spec(tenant="acme")
    docs = list(yaml.safe_load_all(render_stream(spec, ("production",))))
    tenant_docs = [d for d in docs if d["metadata"].get("namespace") == "acme-prod"]
    assert tenant_docs == environment_documents(spec.for_environment("production"))
    others = [(d["kind"], d["metadata"]["namespace"]) for d in docs if d not in tenant_docs]
    assert others == [("ConfigMap", "monitoring"), ("Application", "argocd")]
