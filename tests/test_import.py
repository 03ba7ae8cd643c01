"""Importing the package stays light: no optional client library is pulled in."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import httpx2
import pytest

from tests.helpers import ServedAgent


def test_import_pulls_in_no_optional_dependency() -> None:
    """`import greenlang_runtime` imports no client library, server or web framework."""
    heavy = [
        *("asyncpg", "redis", "anthropic", "openai"),  # the optional clients
        "pydantic",  # only an author's typed capability brings it in
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


UNTYPED_AGENT = """
    import sys
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.capability
    def loaded(payload):
        return sorted(m for m in ("pydantic", "pydantic_core") if m in sys.modules)
"""


@pytest.mark.integration
def test_serving_an_untyped_agent_never_imports_pydantic(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """Served, listed and called over HTTP, an agent with no models never loads pydantic."""
    agent = serve_agent(UNTYPED_AGENT)
    agent.wait_until("/health/startup")
    listing = httpx2.get(agent.url + "/v1/capabilities").json()
    assert listing == {"capabilities": [{"name": "loaded", "description": ""}]}
    response = httpx2.post(agent.url + "/v1/capabilities/loaded", json={})
    assert (response.status_code, response.json()) == (200, [])
