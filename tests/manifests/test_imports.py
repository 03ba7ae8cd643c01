"""Rendering needs no server: the manifests import no serving code."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import greenlang_runtime.manifests

SERVING = [
    "uvicorn",
    "starlette",
    "greenlang_runtime.serving.server",
    "greenlang_runtime.serving._listener",
]


def test_rendering_in_a_fresh_interpreter_imports_no_server() -> None:
    """Importing the package and rendering a spec leaves uvicorn and starlette unimported."""
    code = (
        "import sys, json\n"
        "from greenlang_runtime.manifests import render_tree\n"
        "from greenlang_runtime.spec import AgentSpec\n"
        "render_tree(AgentSpec.from_table({'tenant': 'a'}, name='b', version='1'))\n"
        f"print(json.dumps([m for m in {SERVING!r} if m in sys.modules]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(output.stdout) == []


def test_builders_import_only_config_spec_and_metric_names() -> None:
    """No module of the package imports the runtime, server or ASGI modules directly."""
    allowed = {
        "greenlang_runtime",
        "greenlang_runtime.config",
        "greenlang_runtime.spec",
        "greenlang_runtime.metric_names",
        "greenlang_runtime.metrics",  # DURATION_BUCKETS only: a constant of the collector
        "greenlang_runtime.metrics._families",  # bucket_bounds only: the le labels the exposition writes
        "greenlang_runtime.exceptions",
        "greenlang_runtime.spec._rules",
        "greenlang_runtime._bad_input",  # the CLI command's one error class
    }
    package = Path(greenlang_runtime.manifests.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                name = node.module
                if name.startswith("greenlang_runtime") and not name.startswith(
                    "greenlang_runtime.manifests"
                ):
                    assert name in allowed, f"{module.name} imports {name}"
