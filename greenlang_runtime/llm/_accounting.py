"""The accounting of one agent's LLM calls: its counts, its prices, its clients.

``AgentRuntime`` holds one :class:`LLMAccounting` as ``runtime.llm``, made
with the first instrumented client; the ``agent_llm_*`` collector it counts
in is the runtime's from the start. Nothing here imports the client
libraries or the price data until a client is instrumented.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from prometheus_client import CollectorRegistry

from greenlang_runtime.config import Identity
from greenlang_runtime.llm._calls import LedgerSink, LLMCallLog
from greenlang_runtime.llm._collector import LLMMetrics
from greenlang_runtime.llm._price_file import load_price_file
from greenlang_runtime.llm._tracing import CallSpans
from greenlang_runtime.llm.pricing import Price, PriceBook, price_fault

if TYPE_CHECKING:
    from greenlang_runtime.llm.budget import BudgetConfig, BudgetGuard, BudgetStatus

__all__ = ["LLMAccounting"]

_C = TypeVar("_C")


class LLMAccounting:
    """Tokens, cost, outcomes and spans of the LLM calls of instrumented clients.

    Args:
        identity: gives the ``agent_id, version, tenant_id`` labels.
        registry: where the ``agent_llm_*`` collector is registered.
        prices_file: a price overrides file (``GL_LLM_PRICES_FILE``), read
            and checked here: a fault raises
            :class:`~greenlang_runtime.ConfigError` naming the file, the
            entry and the field.
        ledger: where each call also goes as one row (the usage ledger), if anywhere.
        metrics: the collector to count in (the runtime's, registered at its
            start and made to run :meth:`count_calls` before each scrape);
            ``None`` makes one so and registers it in ``registry``.
        budget: an LLM budget shared through Redis (``GL_LLM_BUDGET_*``):
            every call is reserved before it is sent and settled at its end.
        clock: seconds since the epoch; decides the budget's period.
        environ: the runtime's environment (whether it names a tracer
            provider); ``None``: ``os.environ``.
    """

    def __init__(
        self,
        identity: Identity,
        registry: CollectorRegistry | None = None,
        prices_file: str | None = None,
        ledger: LedgerSink | None = None,
        metrics: LLMMetrics | None = None,
        budget: BudgetConfig | None = None,
        clock: Callable[[], float] = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        overrides = load_price_file(prices_file) if prices_file else None
        if metrics is None:
            metrics = LLMMetrics(identity, registry, before_collect=self.count_calls)
        self.metrics = metrics
        self.prices = PriceBook(overrides)
        self.guard: BudgetGuard | None = None
        if budget is not None:
            from greenlang_runtime.llm.budget import BudgetGuard

            self.guard = BudgetGuard(budget, identity, self.prices, registry=registry, clock=clock)
        spans = CallSpans(os.environ if environ is None else environ)
        self._calls = LLMCallLog(self.metrics, self.prices, ledger, self.guard, spans)

    def count_calls(self) -> None:
        """Price and count the finished calls (before a scrape, or a write of the ledger)."""
        self._calls.drain()

    def instrument(self, client: _C) -> _C:
        """Count the calls of an ``anthropic`` or ``openai`` client (sync or async).

        Returns the same client; instrumenting it again changes nothing.
        Copies made with ``client.with_options(...)`` are instrumented too.
        """
        from greenlang_runtime.llm._instrument import instrument
        from greenlang_runtime.llm.pricing import warm_up

        instrumented = instrument(client, self._calls)
        # Load the price data now rather than on the first call.
        warm_up()
        return instrumented

    def uninstrument(self, client: _C) -> _C:
        """Stop counting ``client``'s calls: it is plain again; returns it (idempotent).

        Copies made from it from now on are plain too; copies made while it
        was instrumented stay instrumented.
        """
        from greenlang_runtime.llm._instrument import uninstrument

        return uninstrument(client)

    def budget(self) -> BudgetStatus | None:
        """The budget's limit, committed and reserved spend and period end; ``None``: no budget.

        One Redis read (blocking; async code uses :meth:`budget_async`).
        ``committed`` and ``reserved`` are ``None`` while Redis is unreachable.
        """
        return None if self.guard is None else self.guard.status()

    async def budget_async(self) -> BudgetStatus | None:
        """:meth:`budget` over the async Redis client, for code on an event loop."""
        return None if self.guard is None else await self.guard.status_async()

    def set_price(
        self,
        provider: str,
        model: str,
        *,
        input: float,
        output: float,
        cache_read: float | None = None,
        cache_write: float | None = None,
        cache_write_1h: float | None = None,
    ) -> None:
        """Price ``model`` (and its dated ids) in USD per million tokens from now on.

        ``cache_read`` and ``cache_write`` default to ``input``,
        ``cache_write_1h`` to ``cache_write``. Bad values raise ``ValueError``
        naming the model and the field.
        """
        optional = {
            "cache_read": cache_read,
            "cache_write": cache_write,
            "cache_write_1h": cache_write_1h,
        }
        rates = {"input": input, "output": output}
        rates.update((name, rate) for name, rate in optional.items() if rate is not None)
        fault = price_fault(provider, model, rates)
        if fault is not None:
            raise ValueError(f"set_price({provider!r}, {model!r}): {fault[0]} {fault[1]}")
        self.prices.set(
            provider,
            model.strip(),
            Price.of(input, output, cache_read, cache_write, cache_write_1h),
        )
