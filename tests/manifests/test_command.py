"""`greenlang-runtime manifests`: write, print, check; bad input in one line, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from greenlang_runtime.cli import main


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["manifests", *args])
    return result.exit_code, result.stdout, result.stderr


def _tree(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_writes_deploy_and_check_then_passes(project: Callable[..., Path]) -> None:
    """By default the tree lands in PROJECT/deploy, each file named; --check right after exits 0."""
    root = project()
    code, out, _ = _run("--project", str(root))
    assert code == 0
    deploy = root / "deploy"
    files = _tree(deploy)
    assert out.splitlines() == [
        *(f"wrote    {deploy}/{name}" for name in files),
        f"{deploy}: {len(files)} written, 0 removed, 0 unchanged.",
        "tenant-quota = true: the namespace's ResourceQuota and LimitRange belong to the tenant; "
        "render them once for all its agents with "
        "greenlang-runtime manifests --tenant --project DIR --project DIR ...",
    ]
    assert {"base/kustomization.yaml", "overlays/production/kustomization.yaml"} <= set(files)
    assert {"promtool/rules.yaml", "promtool/rules.test.yaml"} <= set(files)
    assert _run("--project", str(root), "--check")[0] == 0
    assert _run("--project", str(root))[1].splitlines()[0] == (
        f"{deploy}: 0 written, 0 removed, {len(files)} unchanged."
    )


def test_check_names_changed_missing_and_stale_files(project: Callable[..., Path]) -> None:
    """Exit 1 and one line per file: edited, deleted, left over from an older spec."""
    root = project(rollout="blue-green")
    _run("--project", str(root))
    project()
    deploy = root / "deploy"
    hpa = deploy / "base/hpa.yaml"
    hpa.write_text(hpa.read_text() + "# mine\n")
    (deploy / "overlays/staging/kustomization.yaml").unlink()
    (deploy / "base/mine.yaml").write_text("kind: Mine\n")
    (deploy / "README.md").write_text("not ours\n")
    code, _, err = _run("--project", str(root), "--check")
    assert code == 1
    lines = err.splitlines()
    assert {
        f"{deploy}/base/deployment.yaml: missing",
        f"{deploy}/base/hpa.yaml: edited since it was rendered",
        f"{deploy}/base/kustomization.yaml: differs from what the spec renders",
        f"{deploy}/overlays/staging/kustomization.yaml: missing",
        f"{deploy}/base/analysistemplate.yaml: not rendered by the spec any more",
        f"{deploy}/base/rollout.yaml: not rendered by the spec any more",
        f"{deploy}/base/service-preview.yaml: not rendered by the spec any more",
    } <= set(lines)
    # The author's files are not drift: they are not the command's.
    assert not [line for line in lines if "mine.yaml" in line or "README" in line]


def test_check_of_one_environment_ignores_the_other_overlays(project: Callable[..., Path]) -> None:
    """--environment production checks the base and that overlay only."""
    root = project()
    _run("--project", str(root))
    (root / "deploy/overlays/staging/kustomization.yaml").write_text("edited\n")
    assert _run("--project", str(root), "--environment", "production", "--check")[0] == 0
    assert _run("--project", str(root), "--check")[0] == 1


def test_a_changed_spec_is_drift_until_rendered_again(project: Callable[..., Path]) -> None:
    """Switching to canary: check lists deployment.yaml as stale; rendering removes it."""
    root = project()
    _run("--project", str(root))
    project(rollout="canary")
    code, _, err = _run("--project", str(root), "--check")
    assert code == 1
    assert f"{root}/deploy/base/deployment.yaml: not rendered by the spec any more" in err
    assert f"{root}/deploy/base/rollout.yaml: missing" in err
    _run("--project", str(root))
    assert not (root / "deploy/base/deployment.yaml").exists()
    assert _run("--project", str(root), "--check")[0] == 0


def test_output_dir_and_output_stream(project: Callable[..., Path], tmp_path: Path) -> None:
    """--output DIR writes there (promtool files too); --output - prints one YAML stream."""
    root = project()
    code, _, _ = _run("--project", str(root), "--output", str(tmp_path / "out"))
    assert code == 0
    assert (tmp_path / "out/promtool/rules.test.yaml").is_file()
    assert not (root / "deploy").exists()
    code, out, _ = _run("--project", str(root), "--output", "-", "--environment", "staging")
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    namespaces = {d["metadata"]["namespace"] for d in docs}
    assert namespaces == {"customer-abc-123-staging", "monitoring", "argocd"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--environment", "qa"], "--environment='qa' is invalid: it must be one of development"),
        (["--output", ""], "--output='' is invalid: give a directory, or - for standard output."),
        (["--output", "-", "--check"], "--check compares files on disk: it cannot be used with"),
        (["--project", "missing"], "--project='missing' is invalid: it is not a directory."),
    ],
)
def test_bad_options_fail_in_one_line(
    project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    """Every bad option exits 2 with one line naming it, and writes nothing."""
    root = project()
    monkeypatch.chdir(root)
    code, out, err = _run(*args)
    assert code == 2
    assert out == ""
    assert err == f"Error: {message}" + err.split(message, 1)[1]
    assert err.count("\n") == 1
    assert not (root / "deploy").exists()


def test_bad_spec_fails_in_one_line_and_writes_nothing(project: Callable[..., Path]) -> None:
    """A malformed quantity names the file and the field; no deploy/ appears."""
    root = project(resources={"memory-limit": "2Gb"})
    code, _, err = _run("--project", str(root))
    assert code == 2
    assert err == (
        f"Error: {root / 'pyproject.toml'} [tool.greenlang-runtime] resources.memory-limit='2Gb' "
        "is invalid: it must be a Kubernetes quantity such as 512Mi or 2Gi.\n"
    )
    assert not (root / "deploy").exists()


def test_a_blocked_output_path_writes_nothing(project: Callable[..., Path]) -> None:
    """A file where the overlays directory should be stops the write before it starts."""
    root = project()
    (root / "deploy").mkdir()
    (root / "deploy/overlays").write_text("a file\n")
    code, _, err = _run("--project", str(root))
    assert code == 2
    assert (
        err
        == f"Error: Cannot write manifests: {root}/deploy/overlays exists and is not a directory.\n"
    )
    assert _tree(root / "deploy") == ["overlays"]
