"""How an ``AgentRuntime``'s parts are built from its settings, each given what it needs.

``AgentRuntime.__init__`` calls these in order; each returns one part (the
settings, the registry, the ledger, the call observers, the dependency
checks, the background services) built from the parts made before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from greenlang_runtime.capabilities import CallObserver
from greenlang_runtime.checks import CheckRunner, DependencyMetrics, configured_checks
from greenlang_runtime.config import Identity, Settings, unknown_variable_warnings
from greenlang_runtime.serving import DefaultRegistryCollector, LoopWatchdog, Service

if TYPE_CHECKING:
    from greenlang_runtime.ledger import Ledger
    from greenlang_runtime.llm import LLMAccounting
    from greenlang_runtime.tracing import Tracing

__all__ = [
    "call_observers",
    "make_checks",
    "make_ledger",
    "make_registry",
    "read_settings",
    "services",
]


def read_settings(
    settings: Settings | None, environ: Mapping[str, str] | None
) -> tuple[Settings, list[str]]:
    """``settings``, else read from the environment with its unknown-variable warnings."""
    if settings is not None:
        return settings, []
    return Settings.from_env(environ), unknown_variable_warnings(environ)


def make_registry(registry: CollectorRegistry | None) -> CollectorRegistry:
    """``registry``, else the runtime's own, which also exposes the default registry."""
    if registry is not None:
        return registry
    own = CollectorRegistry(auto_describe=True)
    own.register(DefaultRegistryCollector())
    return own


def make_ledger(
    identity: Identity,
    settings: Settings,
    registry: CollectorRegistry,
    before_flush: Callable[[], None],
) -> Ledger | None:
    """The LLM usage ledger, when ``GL_LLM_LEDGER_URL`` asks for one (docs/llm.md)."""
    if settings.llm_ledger_url is None:
        return None
    from greenlang_runtime.ledger import Ledger

    return Ledger.from_settings(identity, settings, registry, before_flush)


def call_observers(ledger: Ledger | None, tracing: Tracing | None) -> list[CallObserver]:
    """Told of every capability call: the ledger's, then tracing's (LLM accounting adds its own)."""
    observers: list[CallObserver] = []
    if ledger is not None:
        observers.append(ledger.observer)
    if tracing is not None:
        observers.append(tracing.capability_spans)
    return observers


def make_checks(
    identity: Identity,
    settings: Settings,
    registry: CollectorRegistry,
    ledger: Ledger | None,
    tracing: Tracing | None,
) -> CheckRunner:
    """The dependency checks the settings ask for, and the ledger's database."""
    checks = configured_checks(
        settings,
        DependencyMetrics(identity.labels, registry),
        trace_failure=None if tracing is None else tracing.check_failed,
    )
    if ledger is not None:
        checks.add(
            ledger.check(
                timeout=settings.check_timeout_seconds, interval=settings.check_interval_seconds
            )
        )
    return checks


def services(
    watchdog: LoopWatchdog,
    checks: CheckRunner,
    ledger: Ledger | None,
    llm: LLMAccounting | None,
    tracing: Tracing | None,
) -> list[Service]:
    """The background services, in start order (they stop in reverse)."""
    services: list[Service] = [watchdog, checks]
    if ledger is not None:
        # Stopped first: its last write still has the checks' state to report.
        services.append(ledger.writer)
    if llm is not None and llm.guard is not None:
        from greenlang_runtime.llm.budget import BudgetService

        # Stopped after the drain: the calls that ended are settled in Redis.
        services.append(BudgetService(llm.guard))
    if tracing is not None:
        # Stopped last: the others' spans are flushed too.
        services.insert(0, tracing.flush)
    return services
