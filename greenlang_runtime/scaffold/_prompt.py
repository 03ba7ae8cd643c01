"""Asking for the project's values at a terminal: defaults shown, Enter accepts."""

from __future__ import annotations

from collections.abc import Callable, Collection

import click

from greenlang_runtime.exceptions import ConfigError
from greenlang_runtime.scaffold._values import FIELDS, Field

__all__ = ["ask"]


def _question(field: Field) -> str:
    if not field.choices:
        return field.question
    allowed = ", ".join(field.choices)
    if field.many:
        return f"{field.question} (any of {allowed}, or none)"
    return f"{field.question} ({allowed})"


def _reader(field: Field) -> Callable[[str], object]:
    def read(raw: str) -> object:
        try:
            return field.read(raw, field.spec_key)
        except ConfigError as error:
            raise click.UsageError(str(error)) from None  # click shows it and asks again

    return read


def ask(values: dict[str, object], given: Collection[str]) -> dict[str, object]:
    """Ask for every field not in ``given`` (options on the command line), in order.

    Args:
        values: the current values (defaults and options), by attribute.
        given: attributes set by an option, which are not asked again.

    Returns a copy of ``values`` with the answers.
    """
    answers = dict(values)
    for field in FIELDS:
        if field.attr in given:
            continue
        answers[field.attr] = click.prompt(
            _question(field),
            default=field.show(answers[field.attr]),
            value_proc=_reader(field),
        )
    return answers
