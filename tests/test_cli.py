"""The `greenlang-runtime` command: version, and `run`'s handling of its target."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner

from greenlang_runtime._version import __version__
from greenlang_runtime.cli import main
from greenlang_runtime.serving.target import check_servable
from tests.helpers import ServedAgent, agent_env, free_port


def test_version() -> None:
    """--version prints the package version."""
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"greenlang-runtime, version {__version__}\n"


_CAPABILITY = """
from greenlang_runtime import AgentRuntime

runtime = AgentRuntime()

@runtime.capability
def calculate_emissions(payload: dict) -> dict:
    return payload
"""


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
        ("present:x", {"present.py": "x = 1\n"}, "it is a int; run serves an AgentRuntime or"),
        (
            "capable:calculate_emissions",
            {"capable.py": _CAPABILITY},
            "Cannot serve 'capable:calculate_emissions': it is a function "
            "calculate_emissions(payload: dict) -> dict; run serves an AgentRuntime or an ASGI "
            "application (async, taking scope, receive, send).",
        ),
        (
            "sync_handler:handler",
            {"sync_handler.py": "def handler(scope, receive, send):\n    pass\n"},
            "it is a function handler(scope, receive, send); run serves an AgentRuntime or",
        ),
        (
            "one_argument:handler",
            {"one_argument.py": "async def handler(request):\n    pass\n"},
            "it is a function handler(request); run serves an AgentRuntime or",
        ),
        (None, {}, "Nothing to serve: there is no "),
        (
            None,
            {"pyproject.toml": "[project]\nname = 'a'\n"},
            "pyproject.toml sets no app under [tool.greenlang-runtime]; give it as MODULE:ATTR",
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
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--port", "70000"], "'--port': 70000 is not in the range 1<=x<=65535"),
        (["--port", "9090"], "--port='9090' is invalid: the HTTP and metrics ports must differ"),
        (["--metrics-port", "8000"], "--metrics-port='8000' is invalid: the HTTP and metrics"),
        (
            ["--host", " "],
            "--host=' ' is invalid: it must be an IP address (0.0.0.0, ::) or a host name",
        ),
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


def test_run_without_a_target_or_project_says_what_to_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing to serve, the one line names the directory and both ways to name the app."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: Nothing to serve: there is no {tmp_path / 'pyproject.toml'} to take the app "
        "from; give it as MODULE:ATTR (greenlang-runtime run my_agent.agent:runtime), or set "
        'app = "my_agent.agent:runtime" under [tool.greenlang-runtime] in the project\'s '
        "pyproject.toml.\n"
    )


def _asgi_function() -> Callable[..., object]:
    async def app(scope: object, receive: object, send: object) -> None:
        return None

    return app


class _AsgiObject:
    async def __call__(self, scope: object, receive: object, send: object) -> None:
        return None


@pytest.mark.parametrize(
    "app",
    [_asgi_function(), _AsgiObject(), functools.partial(_AsgiObject().__call__)],
    ids=["async-function", "async-call-object", "partial"],
)
def test_asgi_applications_are_servable(app: object) -> None:
    """An async callable taking (scope, receive, send) passes the check `run` makes."""
    check_servable("m:app", app)


def test_starlette_application_is_servable() -> None:
    """A Starlette app, the usual ASGI application, passes the check `run` makes."""
    from starlette.applications import Starlette

    check_servable("m:app", Starlette())


@pytest.mark.parametrize(
    ("command", "closest"),
    [
        ("runtim", "run"),
        ("manifest", "manifests"),
        ("wait-for-dependency", "wait-for-dependencies"),
    ],
)
def test_unknown_command_suggests_the_closest(command: str, closest: str) -> None:
    """A misspelt command is refused with the closest command's name."""
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: No such command {command!r}. Did you mean {closest!r}?"
    )


def test_unknown_command_far_from_any_is_refused_without_a_guess() -> None:
    """A name close to no command gets no suggestion."""
    result = CliRunner().invoke(main, ["zzzz"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == "Error: No such command 'zzzz'."


def test_top_level_help_shows_each_summary_whole() -> None:
    """--help lists every command with its whole first sentence, wrapped, not cut."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listing = " ".join(result.output.split("Commands:")[1].split())
    assert "..." not in listing
    for summary in (
        "manifests Render the Kubernetes manifests from [tool.greenlang-runtime].",
        "new Create an agent project in DIR/NAME from the template.",
        "run Serve an AgentRuntime (or any ASGI app) with probes, metrics and drain.",
        "wait-for-dependencies Exit 0 once every critical dependency answers "
        "(the Deployment's init container).",
    ):
        assert summary in listing


@pytest.mark.parametrize(
    ("name", "suggestion"), [("my_agent", "my-agent"), ("My.Agent", "my-agent"), ("CBAM", "cbam")]
)
def test_new_with_an_invalid_name_suggests_a_valid_one(
    tmp_path: Path, name: str, suggestion: str
) -> None:
    """`new my_agent` is refused with the label it most likely meant; nothing is written."""
    result = CliRunner().invoke(main, ["new", name, "--dir", str(tmp_path), "--no-input"])
    assert result.exit_code == 2
    assert result.output.endswith(
        f"starting and ending with a letter or digit (try {suggestion!r}).\n"
    )
    assert list(tmp_path.iterdir()) == []
