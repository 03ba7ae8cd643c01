"""The `greenlang-runtime` command: version, and `run`'s handling of its target."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from greenlang_runtime import __version__
from greenlang_runtime.cli import main
from tests.helpers import ServedAgent, agent_env, free_port


def test_version() -> None:
    """--version prints the package version."""
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"greenlang-runtime, version {__version__}\n"


@pytest.mark.parametrize(
    ("target", "files", "message"),
    [
        ("no_colon", {}, "it must have the form MODULE:ATTR"),
        ("missing_module:app", {}, "there is no module named 'missing_module'"),
        (
            "present:nothing",
            {"present.py": "x = 1\n"},
            "module 'present' has no attribute 'nothing'",
        ),
        ("present:x", {"present.py": "x = 1\n"}, "it is a int, not an AgentRuntime or ASGI app"),
        (None, {}, "no MODULE:ATTR was given and there is no"),
        (
            None,
            {"pyproject.toml": "[project]\nname = 'a'\n"},
            "sets no [tool.greenlang-runtime] app",
        ),
        (None, {"pyproject.toml": "[tool\n"}, "cannot be read"),
    ],
)
def test_run_rejects_bad_targets_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str | None,
    files: dict[str, str],
    message: str,
) -> None:
    """A target that cannot be served exits 2 with one line saying why."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = CliRunner().invoke(main, ["run", *([target] if target else [])])
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--port", "70000"], "'--port': 70000 is not in the range 1<=x<=65535"),
        (["--port", "9090"], "--port='9090' is invalid: the HTTP and metrics ports must differ"),
        (["--metrics-port", "8000"], "--metrics-port='8000' is invalid: the HTTP and metrics"),
        (["--host", " "], "--host=' ' is invalid: it must be a host name or IP address"),
    ],
)
def test_run_rejects_bad_options_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], message: str
) -> None:
    """A bad --port, --metrics-port or --host exits 2 with a line naming the option."""
    (tmp_path / "plain.py").write_text("async def app(scope, receive, send):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for variable in ("GL_HTTP_PORT", "GL_METRICS_PORT", "GL_HTTP_HOST"):
        monkeypatch.delenv(variable, raising=False)
    result = CliRunner().invoke(main, ["run", "plain:app", *options])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.integration
def test_run_without_target_serves_the_projects_app_and_wraps_plain_asgi(
    tmp_path: Path, serve_agent: Callable[..., ServedAgent]
) -> None:
    """With no argument `run` serves the project's app; a plain Starlette app gains probes."""
    (tmp_path / "pyproject.toml").write_text('[tool.greenlang-runtime]\napp = "web:app"\n')
    (tmp_path / "web.py").write_text(
        "from starlette.applications import Starlette\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "async def hello(request):\n"
        "    return PlainTextResponse('hello')\n"
        "app = Starlette(routes=[Route('/hello', hello)])\n"
    )
    port, metrics_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "greenlang_runtime", "run", "--host", "127.0.0.1",
         "--port", str(port), "--metrics-port", str(metrics_port)],
        cwd=tmp_path,
        env=agent_env({"GL_PRESTOP_DELAY_SECONDS": "0"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    agent = ServedAgent(process, port, metrics_port)
    try:
        agent.wait_until("/health/ready")
        assert httpx2.get(agent.url + "/hello").text == "hello"
        metrics = httpx2.get(agent.metrics_url).text
        assert (
            'agent_requests_total{agent_id="agent",capability="/hello",status="success"' in metrics
        )
    finally:
        status, log = agent.stop()
    assert status == 0, log
