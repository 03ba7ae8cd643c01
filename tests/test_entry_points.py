"""Every entry point loads only what it uses, read from ``sys.modules`` of a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from tests.helpers import ServedAgent

# What serving needs and rendering must not load.
SERVING = [
    "uvicorn",
    "starlette",
    "prometheus_client",
    "anyio",
    "greenlang_runtime.runtime",
    "greenlang_runtime.serving",
    "greenlang_runtime.capabilities",
    "greenlang_runtime.metrics",
]
# What rendering and scaffolding need and serving must not load.
PACKAGING = ["yaml", "jinja2", "greenlang_runtime.manifests", "greenlang_runtime.scaffold"]
# Optional clients and libraries nothing loads before an author asks.
OPTIONAL = ["asyncpg", "redis", "anthropic", "openai", "genai_prices", "pydantic", "fastapi"]


def loaded_after(code: str, watched: list[str], cwd: Path | None = None) -> list[str]:
    """The names in ``watched`` that ``code``, run in a fresh interpreter, leaves loaded."""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps([m for m in {watched!r} if m in sys.modules]))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=cwd
    )
    loaded: list[str] = json.loads(output.stdout.splitlines()[-1])
    return loaded


def test_the_package_root_loads_nothing() -> None:
    """`import greenlang_runtime` reads the version only: no server, metrics or client."""
    assert loaded_after("import greenlang_runtime", SERVING + PACKAGING + OPTIONAL) == []


def test_a_public_name_loads_its_home_on_first_use() -> None:
    """`greenlang_runtime.ConfigError` loads the exceptions module and nothing heavy."""
    code = "import greenlang_runtime\nassert greenlang_runtime.ConfigError.__name__"
    assert loaded_after(code, [*SERVING, *PACKAGING, "greenlang_runtime.exceptions"]) == [
        "greenlang_runtime.exceptions"
    ]


def test_config_loads_nothing_heavy() -> None:
    """The settings can be read without the server, the metrics or the packaging tools."""
    code = "from greenlang_runtime.config import Settings\nSettings.from_env({})"
    heavy = [*SERVING, *PACKAGING, *OPTIONAL, "opentelemetry", "click"]
    assert loaded_after(code, heavy) == []


def test_rendering_manifests_loads_no_server(tmp_path: Path) -> None:
    """`greenlang-runtime manifests` renders a project without the server or prometheus_client."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "cbam-calculator"\nversion = "1.2.0"\n\n'
        '[tool.greenlang-runtime]\ntenant = "acme"\napp = "cbam_calculator.agent:runtime"\n'
    )
    code = (
        "from greenlang_runtime.cli import main\n"
        "try:\n"
        f"    main(['manifests', '--project', {str(project)!r}, '--output',"
        f" {str(tmp_path / 'deploy')!r}])\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
    )
    assert loaded_after(code, SERVING + OPTIONAL) == []
    assert (tmp_path / "deploy" / "base" / "kustomization.yaml").is_file()


def test_the_cli_loads_a_command_only_when_it_runs() -> None:
    """`greenlang-runtime --version` loads no command: no manifests, scaffold or server."""
    code = (
        "from greenlang_runtime.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
    )
    assert loaded_after(code, SERVING + PACKAGING) == []


SERVED_AGENT = """
    import sys
    from greenlang_runtime import AgentRuntime

    runtime = AgentRuntime()

    @runtime.capability
    def loaded(payload):
        return sorted(m for m in payload["watched"] if m in sys.modules)
"""


@pytest.mark.integration
def test_run_loads_no_packaging_or_optional_library(
    serve_agent: Callable[..., ServedAgent],
) -> None:
    """A served agent, probed and called, has loaded no yaml, jinja2, manifests or scaffold."""
    agent = serve_agent(SERVED_AGENT)
    agent.wait_until("/health/ready")
    httpx2.get(agent.metrics_url)
    response = httpx2.post(
        agent.url + "/v1/capabilities/loaded", json={"watched": PACKAGING + OPTIONAL}
    )
    assert (response.status_code, response.json()) == (200, [])
