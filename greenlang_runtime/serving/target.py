"""Loading what ``greenlang-runtime run`` serves: ``MODULE:ATTR`` or the project's app."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

from greenlang_runtime.exceptions import NothingToServe, TargetError

__all__ = ["check_servable", "load_target", "project_target"]


def project_target(directory: Path) -> str:
    """The ``app`` of ``[tool.greenlang-runtime]`` in ``directory/pyproject.toml``."""
    from greenlang_runtime.spec import TABLE, project_app

    pyproject = directory.absolute() / "pyproject.toml"
    how = (
        "give it as MODULE:ATTR (greenlang-runtime run my_agent.agent:runtime), or set "
        f'app = "my_agent.agent:runtime" under [tool.{TABLE}] in the project\'s pyproject.toml'
    )
    if not pyproject.is_file():
        raise NothingToServe(f"there is no {pyproject} to take the app from; {how}")
    app = project_app(directory)
    if app is None:
        raise NothingToServe(f"{pyproject} sets no app under [tool.{TABLE}]; {how}")
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


def check_servable(target: str, value: object) -> None:
    """Refuse what ``run`` cannot serve: only an AgentRuntime or an ASGI application can be.

    An ASGI application is an async callable taking ``(scope, receive,
    send)``. A capability function (or any other function) would be
    accepted by a bare ``callable`` test and fail on the first request.
    """
    accepts = (
        "run serves an AgentRuntime or an ASGI application (async, taking scope, receive, send)"
    )
    if not callable(value):
        raise TargetError(target, f"it is a {type(value).__name__}; {accepts}")
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # a builtin or extension type: nothing to read
        return
    try:
        signature.bind(None, None, None)
    except TypeError:
        pass
    else:
        # As uvicorn tells ASGI 3 apart: the callable, or its __call__, is async.
        call = getattr(value, "__call__", None)  # noqa: B004 - the method itself is read
        if inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(call):
            return
    kind = "class" if inspect.isclass(value) else type(value).__name__
    raise TargetError(
        target,
        f"it is a {kind} {getattr(value, '__name__', '')}{signature}".rstrip() + f"; {accepts}",
    )
