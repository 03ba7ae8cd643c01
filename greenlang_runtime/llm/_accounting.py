"""The accounting of one agent's LLM calls: its counts, its prices, its clients.

``AgentRuntime`` holds one :class:`LLMAccounting` as ``runtime.llm``, made
with the first instrumented client; the ``agent_llm_*`` collector it counts
in is the runtime's from the start. Nothing here imports the client
libraries or the price data until a client is instrumented.
"""

from __future__ import annotations

import math
from typing import TypeVar

from prometheus_client import CollectorRegistry

from greenlang_runtime.config import Identity
from greenlang_runtime.llm._calls import LedgerSink, Recorder
from greenlang_runtime.llm._collector import LLMMetrics
from greenlang_runtime.llm._price_file import load_price_file
from greenlang_runtime.llm.pricing import PROVIDERS, Price, PriceBook

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
            start); ``None`` makes one and registers it in ``registry``.
    """

    def __init__(
        self,
        identity: Identity,
        registry: CollectorRegistry | None = None,
        prices_file: str | None = None,
        ledger: LedgerSink | None = None,
        metrics: LLMMetrics | None = None,
    ) -> None:
        overrides = load_price_file(prices_file) if prices_file else None
        self.metrics = metrics if metrics is not None else LLMMetrics(identity, registry)
        self.prices = PriceBook(overrides)
        self._recorder = Recorder(self.metrics, self.prices, ledger)

    def instrument(self, client: _C) -> _C:
        """Count the calls of an ``anthropic`` or ``openai`` client (sync or async).

        Returns the same client; instrumenting it again changes nothing.
        Copies made with ``client.with_options(...)`` are instrumented too.
        """
        from greenlang_runtime.llm._instrument import instrument
        from greenlang_runtime.llm.pricing import warm_up

        instrumented = instrument(client, self._recorder)
        # Load the price data now rather than on the first call.
        warm_up()
        return instrumented

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
        if provider not in PROVIDERS:
            raise ValueError(
                f"set_price({provider!r}, {model!r}): provider must be one of "
                f"{', '.join(PROVIDERS)}"
            )
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"set_price({provider!r}, {model!r}): model must be a model id")
        rates = {
            "input": input,
            "output": output,
            "cache_read": cache_read,
            "cache_write": cache_write,
            "cache_write_1h": cache_write_1h,
        }
        for field, value in rates.items():
            if value is None and field not in ("input", "output"):
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(
                    f"set_price({provider!r}, {model!r}): {field} must be a non-negative "
                    f"number of USD per million tokens, not {value!r}"
                )
        self.prices.set(
            provider,
            model.strip(),
            Price.of(input, output, cache_read, cache_write, cache_write_1h),
        )
