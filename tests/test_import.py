"""Importing the package stays light: no optional client library is pulled in."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_pulls_in_no_optional_dependency() -> None:
    """`import greenlang_runtime` imports no client library, server or web framework."""
    heavy = [
        *("asyncpg", "redis", "anthropic", "openai"),  # the optional clients
        *("uvicorn", "click", "fastapi", "httpx", "httpx2"),  # needed to serve or test only
    ]
    code = (
        "import sys, json, greenlang_runtime\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(output.stdout) == []
