"""The ``new`` command: options, questions at a terminal, then one checked write."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from greenlang_runtime._bad_input import BadInput
from greenlang_runtime.exceptions import ConfigError, GreenlangRuntimeError, SpecError
from greenlang_runtime.scaffold._values import (
    FIELDS,
    FIELDS_BY_KEY,
    ProjectValues,
    check_project_name,
)
from greenlang_runtime.scaffold._writer import check_target

__all__ = ["new"]

_F = TypeVar("_F", bound=Callable[..., Any])


def _field_options(function: _F) -> _F:
    defaults = ProjectValues("NAME")
    for field in reversed(FIELDS):
        shown = "NAME" if field.attr == "agent_id" else field.show(getattr(defaults, field.attr))
        if field.many:
            help_text = f"{field.question}: comma-separated {', '.join(field.choices)}, or none"
        elif field.choices:
            help_text = f"{field.question}: {', '.join(field.choices)}"
        else:
            help_text = field.question
        function = click.option(
            field.option, field.attr, metavar="TEXT", help=f"{help_text} [default: {shown}]."
        )(function)
    return function


def _options_checked(values: ProjectValues, check: Callable[[ProjectValues], object]) -> None:
    """Check the values given so far; a bad spec field is reported under its option."""
    try:
        check(values)
    except SpecError as error:
        field = FIELDS_BY_KEY.get(error.field)
        if field is None:
            raise
        raise ConfigError(
            field.option, field.show(getattr(values, field.attr)), error.reason
        ) from None


def _interactive(no_input: bool) -> bool:
    return not no_input and sys.stdin is not None and sys.stdin.isatty()


@click.command()
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path),
    default=Path(),
    help="Parent directory; the project goes to DIR/NAME [default: the current directory].",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Ask nothing: take options or defaults (also when stdin is not a terminal).",
)
@_field_options
def new(name: str, parent: Path, no_input: bool, **options: str | None) -> None:
    """Create an agent project in DIR/NAME from the template.

    At a terminal it asks for the spec's main values (Enter accepts the
    default shown) unless given as options or --no-input. NAME must be a
    DNS-1123 label; nothing is written when any value is invalid.
    """
    from greenlang_runtime.scaffold import check_values, create_project
    from greenlang_runtime.scaffold._install import install_command
    from greenlang_runtime.scaffold._prompt import ask

    target = parent.absolute() / name
    try:
        check_project_name(name)
        check_target(target, "NAME")
        given = {attr for attr, raw in options.items() if raw is not None}
        values = ProjectValues(name).updated(
            {f.attr: f.read(options[f.attr] or "", f.option) for f in FIELDS if f.attr in given}
        )
        _options_checked(values, check_values)
        if _interactive(no_input):
            values = ask(values, given, check_values)
        project = create_project(values, target.parent)
    except GreenlangRuntimeError as error:
        raise BadInput(str(error)) from None
    except OSError as error:
        raise BadInput(
            f"Cannot write the project to {target}: {error}; nothing was left behind."
        ) from None
    click.echo(f"Created the agent project {name} in {project}. Next:")
    click.echo(f"  cd {project}")
    # The SDK is installed the way it is installed here: from a checkout, a wheel or the index.
    click.echo(f"  python3.11 -m venv .venv && {install_command('.venv/bin/pip')}")
    click.echo("  .venv/bin/pytest && .venv/bin/greenlang-runtime run")
