"""Asking for the project's values at a terminal: defaults shown, Enter accepts."""

from __future__ import annotations

from collections.abc import Callable, Collection

import click

from greenlang_runtime.exceptions import ConfigError, SpecError
from greenlang_runtime.scaffold._values import FIELDS, Field, ProjectValues

__all__ = ["ask"]


def _question(field: Field) -> str:
    if not field.choices:
        return field.question
    allowed = ", ".join(field.choices)
    if field.many:
        return f"{field.question} (any of {allowed}, or none)"
    return f"{field.question} ({allowed})"


def _reader(
    field: Field, answers: ProjectValues, check: Callable[[ProjectValues], object]
) -> Callable[[str], object]:
    def read(raw: str) -> object:
        try:
            value = field.read(raw, field.spec_key)
            check(answers.updated({field.attr: value}))
        except ConfigError as error:
            raise click.UsageError(str(error)) from None  # click shows it and asks again
        except SpecError as error:
            if error.field != field.spec_key:
                raise
            shown = f"{field.spec_key}={raw!r} is invalid: {error.reason}."
            raise click.UsageError(shown) from None
        return value

    return read


def ask(
    values: ProjectValues,
    given: Collection[str],
    check: Callable[[ProjectValues], object],
) -> ProjectValues:
    """Ask for every field not in ``given`` (set by an option), in order; return all values.

    Args:
        values: the current values (the name, defaults and options).
        given: attributes set by an option, which are not asked again.
        check: checks a whole set of values (raising ``SpecError``); an answer
            it rejects is asked again with the reason.
    """
    for field in FIELDS:
        if field.attr in given:
            continue
        answer = click.prompt(
            _question(field),
            default=field.show(getattr(values, field.attr)),
            value_proc=_reader(field, values, check),
        )
        values = values.updated({field.attr: answer})
    return values
