"""Projects with an agent spec, and what `manifests` renders from them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from greenlang_runtime.spec import AgentSpec

DIGEST = "sha256:" + "0123456789abcdef" * 4

# A spec that turns every optional resource on.
FULL: dict[str, Any] = {
    "app": "cbam_calculator.agent:runtime",
    "tenant": "customer-abc-123",
    "lifecycle-state": "certified",
    "sla-tier": "premium",
    "data-residency": "eu",
    "dependencies": ["postgres", "redis", "llm-ledger"],
    "llm-providers": ["anthropic", "openai"],
    "tenant-quota": True,
    "argocd": {"repo-url": "https://git.example.com/platform/agents.git", "path": "agents/cbam"},
    "scaling": {"min-replicas": 2, "max-replicas": 10},
    "environments": {
        "development": {"min-replicas": 1, "max-replicas": 2, "cpu-request": "100m"},
        "production": {"min-replicas": 3, "image-digest": DIGEST},
    },
}


def make_spec(**table: Any) -> AgentSpec:
    """The FULL spec with ``table``'s keys replacing its own."""
    return AgentSpec.from_table({**FULL, **table}, name="cbam-calculator", version="2.3.1")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    return str(value)


def write_project(directory: Path, **table: Any) -> Path:
    """A pyproject.toml holding the FULL spec with ``table``'s changes."""
    spec = {**FULL, **table}
    lines = ['[project]\nname = "cbam-calculator"\nversion = "2.3.1"\n', "[tool.greenlang-runtime]"]
    lines += [f'"{key}" = {_toml_value(value)}' for key, value in spec.items()]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return directory


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project with the FULL spec, changed by keyword arguments."""

    def make(**table: Any) -> Path:
        return write_project(tmp_path / "project", **table)

    return make


def kustomize(overlay: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of ``overlay``, parsed."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed on this machine")
    built = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    assert "Warning" not in built.stderr, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]
