"""``AgentRuntime``: what an agent author declares capabilities and hooks on."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from prometheus_client import CollectorRegistry

from greenlang_runtime import _assembly as assembly
from greenlang_runtime._types import ASGIApp
from greenlang_runtime.capabilities import Capability, describe
from greenlang_runtime.checks import (
    custom_check,
    validate_check,
)
from greenlang_runtime.config import Identity, Settings
from greenlang_runtime.exceptions import CapabilityError, ConfigError
from greenlang_runtime.llm import LLMMetrics
from greenlang_runtime.metrics import AgentMetrics
from greenlang_runtime.serving import (
    Hook,
    LoopWatchdog,
    StartupShutdown,
    TaskTracker,
    make_metrics_app,
)
from greenlang_runtime.serving.app import RuntimeApp
from greenlang_runtime.serving.lifecycle import Lifecycle
from greenlang_runtime.tracing import make_tracing

if TYPE_CHECKING:
    from greenlang_runtime.llm import LLMAccounting

__all__ = ["AgentRuntime"]

logger = logging.getLogger("greenlang_runtime")

_F = TypeVar("_F", bound=Callable[..., Any])
_H = TypeVar("_H", bound=Hook)
_T = TypeVar("_T")


class AgentRuntime:
    """One agent: its identity, capabilities, hooks, metrics and HTTP surface.

    Identity comes from the keyword arguments, else from ``AGENT_ID``,
    ``AGENT_VERSION``, ``TENANT_ID``, ``ENVIRONMENT`` and
    ``AGENT_LIFECYCLE_STATE``; the runtime's own settings from ``GL_*``.
    Invalid values raise :class:`~greenlang_runtime.ConfigError` here, naming
    the variable.

    Args:
        app: an existing ASGI app (Starlette, FastAPI, ...) to serve behind the
            probes and metrics; its routes are left as they are.
        settings: the runtime's knobs; default: read from the environment.
        registry: where the ``agent_*`` metrics are registered. By default a
            registry of the runtime's own, whose exposition also includes
            prometheus_client's default registry.
        environ: the environment to read instead of ``os.environ``.
    """

    def __init__(
        self,
        *,
        agent_id: str | None = None,
        version: str | None = None,
        tenant_id: str | None = None,
        environment: str | None = None,
        lifecycle_state: str | None = None,
        app: ASGIApp | None = None,
        settings: Settings | None = None,
        registry: CollectorRegistry | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.identity = Identity.from_env(
            environ,
            agent_id=agent_id,
            version=version,
            tenant_id=tenant_id,
            environment=environment,
            lifecycle_state=lifecycle_state,
        )
        # Warnings are logged when serving starts, in the format the logs are
        # configured with then (the runtime is usually built before, at import).
        self.settings, warnings = assembly.read_settings(settings, environ)
        self.registry = assembly.make_registry(registry)
        # Spans, when the application or OTEL_* asks for them; None: the
        # OpenTelemetry API is never called.
        self.tracing = make_tracing(self.identity, environ)
        self.metrics = AgentMetrics(
            self.identity,
            self.registry,
            sampled_trace_id=None if self.tracing is None else self.tracing.sampled_trace_id,
        )
        # Set up with the first instrumented client (the price modules are not
        # imported before), or below when prices or a budget are set: a bad
        # GL_LLM_PRICES_FILE fails the start.
        self._llm: LLMAccounting | None = None
        # The LLM usage ledger, when GL_LLM_LEDGER_URL asks for one (docs/llm.md).
        self.ledger = assembly.make_ledger(
            self.identity, self.settings, self.registry, self._count_llm_calls
        )
        # The agent_llm_* families are exposed from the start (rules and the
        # dashboard query them); the collector imports no client or price data.
        self._llm_metrics = LLMMetrics(self.identity, self.registry, self._count_llm_calls)
        # LLM spans follow the runtime's environment, as its own spans do.
        self._environ = environ
        if self.settings.llm_prices_file is not None or self.settings.llm_budget_usd is not None:
            self._llm = self.llm
        self.capabilities: dict[str, Capability] = {}
        # Told of every capability call (tracing, LLM accounting hook in here).
        self.call_observers = assembly.call_observers(self.ledger, self.tracing)
        self.checks = assembly.make_checks(
            self.identity, self.settings, self.registry, self.ledger, self.tracing
        )
        self._build_serving(app, warnings)

    def __repr__(self) -> str:
        return (
            f"AgentRuntime(agent_id={self.identity.agent_id!r}, "
            f"version={self.identity.version!r}, tenant_id={self.identity.tenant_id!r})"
        )

    def _build_serving(self, app: ASGIApp | None, warnings: list[str]) -> None:
        """The probes' lifecycle, the startup and shutdown, the HTTP and metrics apps."""
        stall = self.settings.loop_stall_seconds
        watchdog = LoopWatchdog(stall, interval=min(0.5, stall / 4))
        self.lifecycle = Lifecycle(watchdog, self.checks)
        self._tasks = TaskTracker(self.metrics.record_error)
        self._startup_hooks: list[Hook] = []
        self._shutdown_hooks: list[Hook] = []
        self._lifespan = StartupShutdown(
            self.lifecycle,
            self._startup_hooks,
            self._shutdown_hooks,
            self.settings.shutdown_hooks_timeout_seconds,
            services=assembly.services(watchdog, self.checks, self.ledger, self._llm, self.tracing),
            tasks=self._tasks,
            drain_timeout=self.settings.drain_timeout_seconds,
            app=app,
            warnings=warnings,
            drains=() if self.ledger is None else (self.ledger.writer.flush,),
        )
        self._asgi_app = RuntimeApp(
            self.capabilities,
            self.lifecycle,
            self._lifespan,
            self.settings,
            self.metrics,
            app,
            server_spans=None if self.tracing is None else self.tracing.server_spans,
        )
        self._metrics_app = make_metrics_app(self.registry)

    @overload
    def capability(self, name: _F, /) -> _F: ...

    @overload
    def capability(
        self,
        name: str | None = None,
        /,
        *,
        description: str | None = None,
        max_concurrency: int | None = None,
    ) -> Callable[[_F], _F]: ...

    def capability(
        self,
        name: str | Callable[..., Any] | None = None,
        /,
        *,
        description: str | None = None,
        max_concurrency: int | None = None,
    ) -> Any:
        """Declare a capability: ``@capability``, ``@capability()`` or ``@capability("name")``.

        The decorated function is returned wrapped: calling it directly (from
        a queue worker, a test) records the same metrics as an HTTP call. A
        sync function stays sync.

        Args:
            name: the capability's name; default: the function's name.
            description: shown by ``GET /v1/capabilities``; default: the
                docstring's first line.
            max_concurrency: calls allowed at once; the rest wait (counted in
                ``agent_queue_depth``).
        """
        if callable(name):
            return self._declare(name, None, description, max_concurrency)

        def decorate(function: _F) -> _F:
            return self._declare(function, name, description, max_concurrency)

        return decorate

    def _declare(
        self,
        function: _F,
        name: str | None,
        description: str | None,
        max_concurrency: int | None,
    ) -> _F:
        name = function.__name__ if name is None else name
        if name in self.capabilities:
            raise CapabilityError(f"A capability named {name!r} is already declared.")
        capability = Capability(
            function,
            name,
            describe(function) if description is None else description,
            max_concurrency,
            self.metrics,
            self.call_observers,
        )
        self.capabilities[name] = capability
        return capability.function  # type: ignore[return-value]

    def dependency(
        self,
        name: str,
        *,
        critical: bool = True,
        timeout: float | None = None,
        interval: float | None = None,
    ) -> Callable[[_F], _F]:
        """Declare a custom dependency check: the function raises (or returns False) when down.

        Sync or async; it runs in the background every ``interval`` seconds,
        bounded by ``timeout``, and probes read its last result.

        Args:
            name: the ``checks`` key in probe bodies and the ``dependency`` label.
            critical: whether readiness needs it; a non-critical one down only
                turns the status ``degraded``.
            timeout: default ``GL_CHECK_TIMEOUT_SECONDS`` (2 s).
            interval: default ``GL_CHECK_INTERVAL_SECONDS`` (5 s).

        Raises:
            CheckError: at once, naming the argument, for a name that is not
                a non-empty string without control characters, a ``critical``
                that is not a bool, or a timeout or interval that is not a
                finite number of seconds (at least 1 ms and 10 ms).
        """
        timeout = self.settings.check_timeout_seconds if timeout is None else timeout
        interval = self.settings.check_interval_seconds if interval is None else interval
        validate_check(name, critical, timeout, interval)

        def declare(function: _F) -> _F:
            self.checks.add(
                custom_check(
                    function, name=name, critical=critical, timeout=timeout, interval=interval
                )
            )
            return function

        return declare

    def create_task(
        self, coro: Coroutine[Any, Any, _T], name: str | None = None
    ) -> asyncio.Task[_T]:
        """Start ``coro`` as work that outlives its request; the drain waits for it.

        Still running at the drain deadline, it is cancelled, logged by name
        and counted in ``agent_errors_total{error_type="CancelledError"}``.
        """
        return self._tasks.create(coro, name)

    def on_startup(self, hook: _H) -> _H:
        """Run ``hook`` once the listener is open; ``/health/startup`` is 503 until all have run."""
        self._startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: _H) -> _H:
        """Run ``hook`` after the drain, before exit (bounded by the hooks timeout)."""
        self._shutdown_hooks.append(hook)
        return hook

    @property
    def asgi_app(self) -> RuntimeApp:
        """The HTTP surface (probes, capabilities, the wrapped app) as an ASGI app."""
        return self._asgi_app

    @property
    def metrics_app(self) -> ASGIApp:
        """``GET /metrics`` as an ASGI app (served on the metrics port)."""
        return self._metrics_app

    def _count_llm_calls(self) -> None:
        """Price and count the finished LLM calls, if a client was ever instrumented."""
        if self._llm is not None:
            self._llm.count_calls()

    @property
    def llm(self) -> LLMAccounting:
        """LLM token and cost accounting: ``runtime.llm.set_price(...)`` overrides a price."""
        if self._llm is None:
            from greenlang_runtime.llm import LLMAccounting

            budget = None
            if self.settings.llm_budget_usd is not None:
                from greenlang_runtime.llm.budget import BudgetConfig

                budget = BudgetConfig.from_settings(self.settings)
                if importlib.util.find_spec("redis") is None:
                    raise ConfigError(
                        "GL_LLM_BUDGET_USD",
                        str(self.settings.llm_budget_usd),
                        'a budget needs the redis extra: pip install "greenlang-runtime[redis]"',
                    )
            self._llm = LLMAccounting(
                self.identity,
                self.registry,
                self.settings.llm_prices_file,
                self.ledger,
                self._llm_metrics,
                budget,
                environ=self._environ,
            )
        return self._llm

    def instrument(self, client: _T) -> _T:
        """Count an anthropic or openai client's tokens, cost and calls; returns ``client``.

        Sync and async clients; calling it twice is harmless. See docs/llm.md.
        """
        return self.llm.instrument(client)

    def uninstrument(self, client: _T) -> _T:
        """Undo :meth:`instrument`: ``client``'s calls are no longer counted; returns it.

        Idempotent; copies made from ``client`` from now on are plain.
        """
        return self.llm.uninstrument(client)

    async def wait_started(self) -> None:
        """Return once the ``on_startup`` hooks have finished (or one has failed)."""
        await self._lifespan.wait_started()

    def run(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        metrics_port: int | None = None,
    ) -> None:
        """Serve until SIGTERM or SIGINT, then drain and return.

        Raises ``SystemExit`` with a non-zero status when serving fails
        (a port in use, a failed startup).
        """
        from greenlang_runtime.serving.launch import run

        status = run(
            self.asgi_app,
            self.metrics_app,
            self.settings,
            host=host,
            port=port,
            metrics_port=metrics_port,
        )
        if status != 0:
            raise SystemExit(status)
