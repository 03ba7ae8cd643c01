"""The ``greenlang-runtime`` command."""

from __future__ import annotations

from pathlib import Path

import click

from greenlang_runtime import __version__
from greenlang_runtime._bad_input import BadInput
from greenlang_runtime.exceptions import GreenlangRuntimeError, TargetError
from greenlang_runtime.manifests._command import manifests
from greenlang_runtime.scaffold._command import new

__all__ = ["main"]


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
        served.run(host=host, port=port, metrics_port=metrics_port)
    except GreenlangRuntimeError as error:
        raise BadInput(str(error)) from None
    raise SystemExit(0)


main.add_command(new)
main.add_command(manifests)


@main.command("wait-for-dependencies")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds to wait for every dependency.",
)
@click.option(
    "--app",
    "target",
    metavar="MODULE:ATTR",
    help="Also wait for the checks the agent declares with @runtime.dependency.",
)
def wait_for_dependencies(timeout: float, target: str | None) -> None:
    """Exit 0 once every configured dependency answers (the Deployment's init container).

    Checks PostgreSQL when DATABASE_URL is set and Redis when REDIS_URL is
    set, plus, with --app, the agent's own checks. At the timeout, exits 1
    with a last line naming each dependency still down and why.
    """
    import asyncio

    from greenlang_runtime._target import load_target
    from greenlang_runtime.checks import DependencyMetrics, configured_checks
    from greenlang_runtime.checks.wait import wait_for_dependencies as wait
    from greenlang_runtime.config import Settings
    from greenlang_runtime.runtime import AgentRuntime

    try:
        if target is None:
            runner = configured_checks(Settings.from_env(), DependencyMetrics(("", "", "")))
        else:
            served = load_target(target, Path.cwd())
            if not isinstance(served, AgentRuntime):
                raise TargetError(target, f"it is a {type(served).__name__}, not an AgentRuntime")
            runner = served.checks
    except GreenlangRuntimeError as error:
        raise BadInput(str(error)) from None
    checks = [state.check for state in runner.states.values()]
    if not checks:
        click.echo("No dependencies to wait for: DATABASE_URL and REDIS_URL are not set.")
        return
    names = ", ".join(check.name for check in checks)
    click.echo(f"Waiting up to {timeout:g} s for: {names}", err=True)
    down = asyncio.run(wait(checks, timeout))
    if down:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in down.items())
        click.echo(f"Dependencies still down after {timeout:g} s: {reasons}", err=True)
        raise SystemExit(1)
    click.echo(f"Every dependency is up: {names}")
