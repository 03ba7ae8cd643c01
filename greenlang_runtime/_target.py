"""Loading what ``greenlang-runtime run`` serves: ``MODULE:ATTR`` or the project's app."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from greenlang_runtime.exceptions import SpecError, TargetError

__all__ = ["load_target", "project_target"]


def project_target(directory: Path) -> str:
    """The ``app`` of ``[tool.greenlang-runtime]`` in ``directory/pyproject.toml``."""
    from greenlang_runtime.spec import TABLE, project_app

    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        raise TargetError("(none given)", f"no MODULE:ATTR was given and there is no {pyproject}")
    try:
        app = project_app(directory)
    except SpecError as error:
        raise TargetError("(none given)", str(error).rstrip(".")) from None
    if app is None:
        raise TargetError(
            "(none given)",
            f"no MODULE:ATTR was given and {pyproject} sets no [tool.{TABLE}] app",
        )
    return app


def load_target(target: str, directory: Path) -> Any:
    """Import ``MODULE:ATTR`` (with ``directory`` first on the import path) and return it."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(target, "it must have the form MODULE:ATTR, e.g. my_agent.agent:runtime")
    path = str(directory)
    if path not in sys.path:
        sys.path.insert(0, path)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise TargetError(target, f"there is no module named {error.name!r}") from None
        raise
    value: Any = module
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise TargetError(target, f"module {module_name!r} has no attribute {attr!r}") from None
    return value
