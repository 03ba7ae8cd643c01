"""Which provider module reads the calls of which client library.

The generic wrapper (:mod:`._instrument`) finds a client's provider here,
by the package its class comes from, and then knows it only through the
module's ``PROVIDER`` name, its ``ROUTES`` table and ``stream_types()``.
A new provider is one module and one line below.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Final

from greenlang_runtime.config import LLM_PROVIDERS

__all__ = ["provider_of"]

# Client package -> the module that knows its routes (one per LLM_PROVIDERS name).
_MODULES: Final = {name: f"greenlang_runtime.llm.{name}" for name in LLM_PROVIDERS}


def provider_of(client: object, action: str) -> ModuleType:
    """The provider module of ``client``; ``TypeError`` naming ``action`` for any other object."""
    for cls in type(client).__mro__:
        home = _MODULES.get(cls.__module__.split(".", 1)[0])
        if home is not None:
            return import_module(home)
    raise TypeError(
        f"runtime.{action}() takes an {' or '.join(LLM_PROVIDERS)} client, "
        f"not {type(client).__name__}"
    )
