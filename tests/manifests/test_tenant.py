"""Namespace-wide objects belong to the tenant: rendered once for all its agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from click.testing import CliRunner

from greenlang_runtime.cli import main
from tests.manifests.conftest import kustomize

ENVIRONMENTS = ("development", "staging", "production")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["manifests", *args])
    return result.exit_code, result.stdout, result.stderr


def _agent(directory: Path, name: str, tenant: str = "acme") -> Path:
    """A project as `new` writes it: the defaults, tenant-quota = true."""
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n'
        f'[tool.greenlang-runtime]\napp = "{name.replace("-", "_")}.agent:runtime"\n'
        f'tenant = "{tenant}"\ntenant-quota = true\n'
    )
    return directory


def _objects(overlay: Path) -> list[dict[str, Any]]:
    return kustomize(overlay)


def test_two_agents_of_a_tenant_claim_no_object_twice(tmp_path: Path) -> None:
    """Both agents and the tenant rendered: each (kind, namespace, name) has one content."""
    first = _agent(tmp_path / "invoices", "invoices")
    second = _agent(tmp_path / "emissions", "emissions")
    tenant = tmp_path / "tenant-acme"
    for project in (first, second):
        assert _run("--project", str(project))[0] == 0
    code, out, _ = _run(
        "--tenant", "--project", str(first), "--project", str(second), "--output", str(tenant)
    )
    assert code == 0, out
    claimed: dict[tuple[str, str, str], set[str]] = {}
    trees = [first / "deploy", second / "deploy", tenant]
    for tree in trees:
        for environment in ENVIRONMENTS:
            for doc in _objects(tree / "overlays" / environment):
                key = (doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"])
                claimed.setdefault(key, set()).add(json.dumps(doc, sort_keys=True))
        for path in (tree / "platform").glob("*.yaml"):
            for doc in yaml.safe_load_all(path.read_text()):
                key = (doc["kind"], doc["metadata"]["namespace"], doc["metadata"]["name"])
                claimed.setdefault(key, set()).add(json.dumps(doc, sort_keys=True))
    assert [key for key, contents in claimed.items() if len(contents) > 1] == []
    # The namespace-wide objects exist once per namespace, from the tenant's render only.
    quotas = sorted(key for key in claimed if key[0] in {"ResourceQuota", "LimitRange"})
    assert quotas == [
        ("LimitRange", "acme-dev", "tenant-limits"),
        ("LimitRange", "acme-prod", "tenant-limits"),
        ("LimitRange", "acme-staging", "tenant-limits"),
        ("ResourceQuota", "acme-dev", "tenant-quota"),
        ("ResourceQuota", "acme-prod", "tenant-quota"),
        ("ResourceQuota", "acme-staging", "tenant-quota"),
    ]
    production = _objects(tenant / "overlays/production")
    (quota,) = [doc for doc in production if doc["kind"] == "ResourceQuota"]
    # Two agents at the default max of 10 replicas, twice over for a rollout: 40 pods.
    assert quota["spec"]["hard"]["pods"] == "40"
    assert quota["metadata"]["labels"] == {
        "tenant-id": "acme",
        "app.kubernetes.io/managed-by": "greenlang-runtime",
    }
    for environment in ENVIRONMENTS:
        for doc in _objects(tenant / "overlays" / environment):
            for version in ("1.30.0", "1.37.0"):
                kubernetes_validate.validate(doc, version, strict=True)
    assert (
        _run(
            "--tenant",
            "--project",
            str(second),
            "--project",
            str(first),
            "--output",
            str(tenant),
            "--check",
        )[0]
        == 0
    )


def test_the_tenant_stream_and_its_bad_input(tmp_path: Path) -> None:
    """--output - prints the namespaced objects; other tenants and repeated --project fail."""
    first = _agent(tmp_path / "a", "agent-a")
    other = _agent(tmp_path / "b", "agent-b", tenant="globex")
    code, out, _ = _run(
        "--tenant", "--project", str(first), "--output", "-", "--environment", "staging"
    )
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    assert [(d["kind"], d["metadata"]["namespace"]) for d in docs] == [
        ("ResourceQuota", "acme-staging"),
        ("LimitRange", "acme-staging"),
    ]
    code, _, err = _run("--tenant", "--project", str(first), "--project", str(other))
    assert (code, err) == (
        2,
        f"Error: --project={str(other)!r} is invalid with --tenant: its tenant is 'globex', "
        f"not 'acme' like {str(first)!r}.\n",
    )
    code, _, err = _run("--project", str(first), "--project", str(first))
    assert (code, err) == (
        2,
        "Error: --project is given 2 times: render one agent at a time "
        "(several only with --tenant).\n",
    )


@pytest.mark.parametrize("quota", [True, False])
def test_an_agent_render_points_at_the_tenant_render(tmp_path: Path, quota: bool) -> None:
    """tenant-quota = true: the agent's render says where the quota comes from."""
    project = _agent(tmp_path / "a", "agent-a")
    if not quota:
        text = (project / "pyproject.toml").read_text()
        (project / "pyproject.toml").write_text(text.replace("tenant-quota = true", ""))
    out = _run("--project", str(project))[1]
    assert ("manifests --tenant --project DIR" in out) is quota
