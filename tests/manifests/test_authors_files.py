"""The author's files: patches in overlays/ENV/patches/ survive and apply; nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from greenlang_runtime.cli import main
from tests.manifests.conftest import kustomize

# A strategic-merge patch names its target by apiVersion, kind and metadata.name.
PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cbam-calculator
spec:
  template:
    spec:
      containers:
        - name: agent
          env:
            - name: FEATURE_X
              value: "on"
"""


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["manifests", *args])
    return result.exit_code, result.stdout, result.stderr


def _snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_patch_and_an_extra_file_survive_a_render_and_apply(
    project: Callable[..., Path],
) -> None:
    """Round trip: render, add a patch and a note, render again, build, check."""
    root = project()
    deploy = root / "deploy"
    assert _run("--project", str(root))[0] == 0
    patches = deploy / "overlays/production/patches"
    patches.mkdir()
    (patches / "feature-x.yaml").write_text(PATCH)
    (deploy / "overlays/production/NOTES.md").write_text("why we patch\n")
    # Where the author kept a patch: left alone, and said not to be applied.
    (deploy / "base/extra.yaml").write_text("kind: Mine\n")

    code, out, _ = _run("--project", str(root))
    assert code == 0
    assert out.splitlines() == [
        f"wrote    {deploy}/overlays/production/kustomization.yaml",
        f"ignored  {deploy}/base/extra.yaml (yours: left alone, but no kustomization lists it; "
        "a patch goes in overlays/<env>/patches/)",
        f"{deploy}: 1 written, 0 removed, {len(_snapshot(deploy)) - 4} unchanged; "
        "your patches applied: overlays/production/patches/feature-x.yaml.",
        out.splitlines()[-1],  # the tenant-quota pointer, tested in test_tenant.py
    ]
    assert (patches / "feature-x.yaml").read_text() == PATCH
    assert (deploy / "overlays/production/NOTES.md").read_text() == "why we patch\n"
    assert (deploy / "base/extra.yaml").read_text() == "kind: Mine\n"

    built = kustomize(deploy / "overlays/production")
    (deployment,) = [doc for doc in built if doc["kind"] == "Deployment"]
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "FEATURE_X", "value": "on"} in env
    # The patch merged into the list: the spec's variables are all still there.
    assert {"name": "TENANT_ID", "value": "customer-abc-123"} in env
    staging = kustomize(deploy / "overlays/staging")
    (other,) = [doc for doc in staging if doc["kind"] == "Deployment"]
    assert "FEATURE_X" not in str(other)

    assert _run("--project", str(root), "--check") == (
        0,
        f"{deploy}: up to date with the spec.\n",
        "",
    )


def test_a_new_patch_is_drift_shown_as_a_diff(project: Callable[..., Path]) -> None:
    """--check --diff: the overlay's kustomization gains the patch, as a unified diff."""
    root = project()
    deploy = root / "deploy"
    _run("--project", str(root))
    (deploy / "overlays/staging/patches").mkdir()
    (deploy / "overlays/staging/patches/b.yaml").write_text(PATCH)
    (deploy / "overlays/staging/patches/a.yml").write_text(PATCH)
    (deploy / "overlays/staging/patches/README.md").write_text("not a patch\n")
    code, out, err = _run("--project", str(root), "--check", "--diff")
    assert code == 1
    assert (
        err == f"{deploy}/overlays/staging/kustomization.yaml: differs from what the spec renders\n"
    )
    assert out.startswith(
        "--- a/overlays/staging/kustomization.yaml\n+++ b/overlays/staging/kustomization.yaml\n"
    )
    added = [line for line in out.splitlines() if line.startswith("+- path: patches/")]
    assert added == ["+- path: patches/a.yml", "+- path: patches/b.yaml"]
    assert _run("--project", str(root), "--check")[1] == ""


def test_an_edited_generated_file_stops_the_render(project: Callable[..., Path]) -> None:
    """Edited after rendering, or never rendered: named, exit 1, and nothing at all written."""
    root = project()
    deploy = root / "deploy"
    _run("--project", str(root))
    hpa = deploy / "base/hpa.yaml"
    hpa.write_text(hpa.read_text().replace("maxReplicas: 10", "maxReplicas: 11"))
    (deploy / "base/vpa.yaml").write_text("kind: Mine\n")
    project(**{"scaling": {"min-replicas": 2, "max-replicas": 12}})
    before = _snapshot(deploy)
    code, out, err = _run("--project", str(root))
    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        f"{deploy}/base/hpa.yaml: edited since it was rendered",
        f"{deploy}/base/vpa.yaml: not written by manifests (no header)",
        "Nothing written: the 2 file(s) above are not as manifests rendered them. Move your "
        "changes into overlays/ENV/patches/ (see docs/manifests.md), delete those files, and "
        "render again.",
    ]
    assert _snapshot(deploy) == before
    hpa.unlink()
    (deploy / "base/vpa.yaml").unlink()
    assert _run("--project", str(root))[0] == 0
    assert "maxReplicas: 12" in hpa.read_text()


def test_removal_is_per_file_and_spares_edited_files(project: Callable[..., Path]) -> None:
    """A rollout change removes the unedited old files by name and keeps an edited one."""
    root = project(rollout="canary")
    deploy = root / "deploy"
    _run("--project", str(root))
    template = deploy / "base/analysistemplate.yaml"
    template.write_text(template.read_text() + "# tuned by hand\n")
    project()
    code, out, _ = _run("--project", str(root))
    assert code == 0
    lines = out.splitlines()
    assert f"removed  {deploy}/base/rollout.yaml" in lines
    assert (
        f"kept     {deploy}/base/analysistemplate.yaml (no longer rendered, but edited since)"
        in lines
    )
    assert f"wrote    {deploy}/base/deployment.yaml" in lines
    assert not (deploy / "base/rollout.yaml").exists()
    assert template.read_text().endswith("# tuned by hand\n")


def test_diff_needs_check(project: Callable[..., Path]) -> None:
    """--diff alone is one line naming the option."""
    root = project()
    assert _run("--project", str(root), "--diff") == (
        2,
        "",
        "Error: --diff shows what --check finds: use it as --check --diff.\n",
    )
