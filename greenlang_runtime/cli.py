"""The ``greenlang-runtime`` command.

Each command imports what it needs when it runs, and ``new`` and
``manifests`` are loaded only when named (or listed by ``--help``): serving
an agent never loads the scaffold, the manifests or PyYAML.
"""

from __future__ import annotations

import difflib
import importlib
import textwrap
from pathlib import Path

import click

from greenlang_runtime._bad_input import BadInput
from greenlang_runtime._version import __version__
from greenlang_runtime.exceptions import GreenlangRuntimeError, TargetError

__all__ = ["main"]


# Commands defined elsewhere, loaded on first use: name -> (module, attribute).
_ELSEWHERE = {
    "manifests": ("greenlang_runtime.manifests._command", "manifests"),
    "new": ("greenlang_runtime.scaffold._command", "new"),
}


class _Commands(click.Group):
    """The command group: commands loaded when named, whole summaries in ``--help``,
    the closest name for a typo."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_ELSEWHERE})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _ELSEWHERE and cmd_name not in self.commands:
            module, attribute = _ELSEWHERE[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click cuts each summary to what fits on one line: wrap it instead,
        # never inside a hyphenated name such as greenlang-runtime.
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=_WHOLE)))
        if not rows:
            return
        with formatter.section("Commands"):
            first = max(len(name) for name, _ in rows) + 2
            indent = " " * formatter.current_indent
            width = max(formatter.width - formatter.current_indent - first, 30)
            for name, summary in rows:
                lines = textwrap.wrap(summary, width, break_on_hyphens=False) or [""]
                formatter.write(f"{indent}{name:<{first}}{lines[0]}\n")
                for line in lines[1:]:
                    formatter.write(f"{indent}{'':<{first}}{line}\n")

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)


# A summary is one sentence; no limit cuts one short.
_WHOLE = 1000


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
    from greenlang_runtime.runtime import AgentRuntime
    from greenlang_runtime.serving.target import check_servable, load_target, project_target

    directory = Path.cwd()
    try:
        target = target or project_target(directory)
        served = load_target(target, directory)
        if not isinstance(served, AgentRuntime):
            check_servable(target, served)
            served = AgentRuntime(app=served)
        served.run(host=host, port=port, metrics_port=metrics_port)
    except GreenlangRuntimeError as error:
        raise BadInput(str(error)) from None
    raise SystemExit(0)


@main.command("wait-for-dependencies")
@click.option(
    "--timeout",
    "timeout_text",
    metavar="SECONDS",
    default="60",
    show_default=True,
    help="Seconds to wait for every critical dependency (more than 0, at most a day).",
)
@click.option(
    "--app",
    "target",
    metavar="MODULE:ATTR",
    help="Also run the checks the agent declares with @runtime.dependency "
    "(the critical ones are waited for, the others reported).",
)
def wait_for_dependencies(timeout_text: str, target: str | None) -> None:
    """Exit 0 once every critical dependency answers (the Deployment's init container).

    Checks PostgreSQL when DATABASE_URL is set and Redis when REDIS_URL is
    set, plus, with --app, the agent's own checks; a non-critical one is
    reported, never waited for. At the timeout, exits 1 with a last line
    naming each critical dependency still down and why.
    """
    import asyncio

    from greenlang_runtime._redact import redact_text
    from greenlang_runtime._setting_rules import check_positive_seconds, to_seconds
    from greenlang_runtime.checks import DependencyMetrics, configured_checks
    from greenlang_runtime.checks.wait import wait_for_dependencies as wait
    from greenlang_runtime.config import DATABASE_URL_VARIABLE, REDIS_URL_VARIABLE, Settings
    from greenlang_runtime.runtime import AgentRuntime
    from greenlang_runtime.serving.target import load_target

    try:
        # The rule of every time setting: a nan or inf timeout would never strike.
        timeout = to_seconds("--timeout", timeout_text)
        check_positive_seconds("--timeout", timeout, timeout_text)
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
        click.echo(
            f"No dependencies to wait for: {DATABASE_URL_VARIABLE} and {REDIS_URL_VARIABLE} "
            "are not set."
        )
        return
    critical = [check.name for check in checks if check.critical]
    optional = [check.name for check in checks if not check.critical]
    waiting = ", ".join(critical) or "nothing (every dependency is non-critical)"
    also = f"; not waiting for the non-critical {', '.join(optional)}" if optional else ""
    click.echo(f"Waiting up to {timeout:g} s for: {waiting}{also}", err=True)
    waited = asyncio.run(wait(checks, timeout))
    for name, reason in waited.optional.items():
        # Masked like every surface; cut by the check runner after masking.
        click.echo(f"Non-critical {name}: {redact_text(reason)} (not waited for)", err=True)
    if waited.down:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in waited.down.items())
        click.echo(f"Dependencies still down after {timeout:g} s: {redact_text(reasons)}", err=True)
        raise SystemExit(1)
    if critical:
        which = "critical dependency" if optional else "dependency"
        click.echo(f"Every {which} is up: {', '.join(critical)}")
    else:
        click.echo("No critical dependency to wait for.")


@main.command()
@click.option("--since", metavar="DATE", help="From this ISO date or UTC datetime, inclusive.")
@click.option("--until", metavar="DATE", help="Up to this ISO date or UTC datetime, exclusive.")
@click.option(
    "--by",
    metavar="KEYS",
    help="Group by any of tenant,agent,capability,provider,model,day (comma-separated).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def usage(since: str | None, until: str | None, by: str | None, output_format: str) -> None:
    """LLM calls, tokens and cost from the ledger (GL_LLM_LEDGER_URL), totals last.

    The database groups and sums; `day` is the UTC date of the call's start.
    """
    import asyncio

    from greenlang_runtime.config import Settings
    from greenlang_runtime.ledger.usage import UsageError, parse_by, parse_when, query

    try:
        settings = Settings.from_env()
        keys = parse_by(by)
        start = None if since is None else parse_when("--since", since)
        end = None if until is None else parse_when("--until", until)
    except (GreenlangRuntimeError, ValueError) as error:
        raise BadInput(str(error)) from None
    if settings.llm_ledger_url is None:
        raise BadInput(
            "GL_LLM_LEDGER_URL is not set: usage reads the ledger from the database it names."
        )
    try:
        report = asyncio.run(
            query(settings.llm_ledger_url.reveal(), settings.llm_ledger_table, keys, start, end)
        )
    except ImportError:
        raise BadInput("usage needs asyncpg: pip install 'greenlang-runtime[postgres]'") from None
    except UsageError as error:
        raise click.ClickException(str(error)) from None
    click.echo(report.render(output_format))
