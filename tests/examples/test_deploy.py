"""The example's deploy/ is what `greenlang-runtime manifests` renders from its spec."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.examples.conftest import EXAMPLE

pytestmark = pytest.mark.integration


def test_manifests_check_passes_on_the_example() -> None:
    """`manifests --check` exits 0: deploy/ is current with pyproject.toml's spec."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "greenlang_runtime",
            "manifests",
            "--project",
            str(EXAMPLE),
            "--check",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_deployment_takes_its_secrets_from_a_secret() -> None:
    """DATABASE_URL, REDIS_URL, the ledger's URL and the Anthropic key come by secretKeyRef."""
    deployment = yaml.safe_load((EXAMPLE / "deploy/base/deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    from_secret = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
    assert from_secret == {"DATABASE_URL", "REDIS_URL", "GL_LLM_LEDGER_URL", "ANTHROPIC_API_KEY"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on this machine")
@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_each_overlay_builds(environment: str) -> None:
    """`kubectl kustomize` builds every overlay of the example into its tenant namespace."""
    overlay = EXAMPLE / "deploy" / "overlays" / environment
    done = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    suffix = {"development": "dev", "staging": "staging", "production": "prod"}[environment]
    namespaces = {d["metadata"].get("namespace") for d in yaml.safe_load_all(done.stdout) if d}
    assert namespaces == {f"demo-{suffix}"}


def test_the_dockerfile_passes_hadolint() -> None:
    """The example's Dockerfile (non-root, exec-form entrypoint) passes hadolint."""
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    done = subprocess.run(
        [hadolint, str(EXAMPLE / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
