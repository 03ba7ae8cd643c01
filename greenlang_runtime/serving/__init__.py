"""Serving an agent: the listeners, the ASGI app, the lifespan and the drain.

The parts the runtime puts together are named here and loaded when first
used, so that importing one module of the package (the CLI reads
:mod:`.target` to find the app) loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime._lazy import lazy_names

if TYPE_CHECKING:
    from greenlang_runtime.serving._lifespan import Hook, Service, StartupShutdown
    from greenlang_runtime.serving._metrics_app import DefaultRegistryCollector, make_metrics_app
    from greenlang_runtime.serving._tasks import TaskTracker
    from greenlang_runtime.serving._watchdog import LoopWatchdog

__all__ = [
    "DefaultRegistryCollector",
    "Hook",
    "LoopWatchdog",
    "Service",
    "StartupShutdown",
    "TaskTracker",
    "make_metrics_app",
]

_HOMES = {
    "DefaultRegistryCollector": "greenlang_runtime.serving._metrics_app",
    "Hook": "greenlang_runtime.serving._lifespan",
    "LoopWatchdog": "greenlang_runtime.serving._watchdog",
    "Service": "greenlang_runtime.serving._lifespan",
    "StartupShutdown": "greenlang_runtime.serving._lifespan",
    "TaskTracker": "greenlang_runtime.serving._tasks",
    "make_metrics_app": "greenlang_runtime.serving._metrics_app",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
