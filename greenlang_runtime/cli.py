"""The ``greenlang-runtime`` command."""

from __future__ import annotations

from pathlib import Path

import click

from greenlang_runtime import __version__
from greenlang_runtime.exceptions import GreenlangRuntimeError, TargetError

__all__ = ["main"]


class _Failure(click.ClickException):
    """Bad input: one line on standard error, exit status 2."""

    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="greenlang-runtime")
def main() -> None:
    """Run and package agents on the platform."""


_PORT = click.IntRange(1, 65535)


@main.command()
@click.argument("target", required=False, metavar="[MODULE:ATTR]")
@click.option("--host", help="Address both listeners bind [GL_HTTP_HOST, default 0.0.0.0].")
@click.option("--port", type=_PORT, help="Probes and capabilities [GL_HTTP_PORT, default 8000].")
@click.option("--metrics-port", type=_PORT, help="GET /metrics [GL_METRICS_PORT, default 9090].")
def run(target: str | None, host: str | None, port: int | None, metrics_port: int | None) -> None:
    """Serve an AgentRuntime (or any ASGI app) with probes, metrics and drain.

    Without MODULE:ATTR, serves the `app` of [tool.greenlang-runtime] in
    ./pyproject.toml.
    """
    from greenlang_runtime._target import load_target, project_target
    from greenlang_runtime.runtime import AgentRuntime
    from greenlang_runtime.server import run_runtime

    directory = Path.cwd()
    try:
        target = target or project_target(directory)
        served = load_target(target, directory)
        if not isinstance(served, AgentRuntime):
            if not callable(served):
                raise TargetError(
                    target, f"it is a {type(served).__name__}, not an AgentRuntime or ASGI app"
                )
            served = AgentRuntime(app=served)
        status = run_runtime(served, host=host, port=port, metrics_port=metrics_port)
    except GreenlangRuntimeError as error:
        raise _Failure(str(error)) from None
    raise SystemExit(status)
