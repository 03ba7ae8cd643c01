"""The manifests are built from the spec alone: no builder imports the runtime or the server."""

from __future__ import annotations

import ast
from pathlib import Path

import greenlang_runtime.manifests

# What a builder may import from the rest of the package: data and rules, never serving.
ALLOWED = {
    "greenlang_runtime.config",
    "greenlang_runtime.spec",
    "greenlang_runtime.metric_names",
    "greenlang_runtime.exceptions",
    "greenlang_runtime._bad_input",  # the CLI command's one error class
}


def test_builders_import_only_config_spec_and_metric_names() -> None:
    """Every import of a manifests module outside the package names a public leaf."""
    package = Path(greenlang_runtime.manifests.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            names = [node.module]
            if node.module == "greenlang_runtime":  # from greenlang_runtime import metric_names
                names = [f"greenlang_runtime.{alias.name}" for alias in node.names]
            for name in names:
                if name.startswith("greenlang_runtime.") and not name.startswith(
                    "greenlang_runtime.manifests"
                ):
                    assert name in ALLOWED, f"{module.name} imports {name}"
