"""The one error every ``greenlang-runtime`` command answers bad input with."""

from __future__ import annotations

import click

__all__ = ["BadInput"]


class BadInput(click.ClickException):
    """Bad input (or a write that failed): one line on standard error, exit status 2."""

    exit_code = 2
