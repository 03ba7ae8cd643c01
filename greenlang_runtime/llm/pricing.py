"""Prices per model: genai-prices' bundled data, resolved once, plus the author's overrides.

``genai_prices.calc_price`` resolves the provider and the model on every
call (about 100 µs). Here a model is looked up once per (provider, model)
and its dated prices kept as plain numbers, so pricing a call is a few
multiplications. The data is the one installed with the package: its
network updater is never started.
"""

from __future__ import annotations

import datetime
import math
import threading
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from greenlang_runtime.config import LLM_PROVIDERS
from greenlang_runtime.llm._usage import Usage

__all__ = ["PROVIDERS", "Price", "PriceBook", "Rate", "price_fault", "warm_up"]

PROVIDERS: Final = LLM_PROVIDERS
# Resolved models kept at most; past this the cache starts again (a flood of
# model names cannot grow memory without limit).
_CACHE_LIMIT = 1024
_PER_MILLION = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Rate:
    """USD per million tokens, and the higher rates of long prompts.

    Args:
        base: the rate of a prompt at or below the first tier's start.
        tiers: ``(start, rate)`` pairs, ascending: once the prompt (every
            input token, cached or not) passes ``start``, ``rate`` applies to
            all tokens of this kind.
    """

    base: float
    tiers: tuple[tuple[int, float], ...] = ()

    def at(self, prompt: int) -> float:
        """The rate for a call whose prompt has ``prompt`` tokens."""
        rate = self.base
        if not self.tiers:
            return rate
        for start, tier_rate in self.tiers:
            if prompt > start:
                rate = tier_rate
        return rate


@dataclass(frozen=True, slots=True)
class Price:
    """A model's prices in USD per million tokens.

    ``cache_read`` and ``cache_write`` default to the input rate and
    ``cache_write_1h`` to ``cache_write``, as a provider bills tokens it has
    no separate price for.
    """

    input: Rate
    output: Rate
    cache_read: Rate
    cache_write: Rate
    cache_write_1h: Rate
    # (tier start, the five rates past it), ascending; the first starts at -1.
    # Worked out once, so that pricing a call is one short loop.
    _bands: tuple[tuple[int, tuple[float, float, float, float, float]], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        rates = (self.input, self.output, self.cache_read, self.cache_write, self.cache_write_1h)
        starts = sorted({start for rate in rates for start, _ in rate.tiers})
        bands = [(start, (*(rate.at(start + 1) for rate in rates),)) for start in [-1, *starts]]
        object.__setattr__(self, "_bands", tuple(bands))

    @classmethod
    def of(
        cls,
        input: float,
        output: float,
        cache_read: float | None = None,
        cache_write: float | None = None,
        cache_write_1h: float | None = None,
    ) -> Price:
        """A price without tiers, from plain rates (USD per million tokens)."""
        write = input if cache_write is None else cache_write
        return cls(
            Rate(input),
            Rate(output),
            Rate(input if cache_read is None else cache_read),
            Rate(write),
            Rate(write if cache_write_1h is None else cache_write_1h),
        )

    def cost(self, usage: Usage) -> float:
        """What ``usage`` costs in USD."""
        bands = self._bands
        rates = bands[0][1]
        if len(bands) > 1:
            prompt = usage.prompt
            for start, band in bands:
                if prompt > start:
                    rates = band
        input_rate, output, cache_read, cache_write, cache_write_1h = rates
        micro = (
            usage.input * input_rate
            + usage.output * output
            + usage.cache_read * cache_read
            + usage.cache_write_5m * cache_write
            + usage.cache_write_1h * cache_write_1h
        )
        return micro / _PER_MILLION


class _Dated:
    """A model's prices over time: the last one started on or before a day applies."""

    __slots__ = ("_fallback", "_prices", "_starts")

    def __init__(self, dated: Sequence[tuple[datetime.date, Price]], fallback: Price) -> None:
        ordered = sorted(dated, key=lambda pair: pair[0])
        self._starts = [start for start, _ in ordered]
        self._prices = [price for _, price in ordered]
        self._fallback = fallback

    def on(self, day: datetime.date) -> Price:
        index = bisect_right(self._starts, day)
        return self._prices[index - 1] if index else self._fallback


class PriceBook:
    """Finds the price of a (provider, model) once, then reuses it; thread-safe.

    Args:
        overrides: ``(provider, model) -> Price`` from the author (a prices
            file, or :meth:`set`); each replaces the bundled price of that
            model, dated ids included, or adds a model.
    """

    def __init__(self, overrides: Mapping[tuple[str, str], Price] | None = None) -> None:
        self._lock = threading.Lock()
        self._overrides: dict[tuple[str, str], Price] = {}
        self._cache: dict[tuple[str, str], _Dated | None] = {}
        for (provider, model), price in (overrides or {}).items():
            self.set(provider, model, price)

    def set(self, provider: str, model: str, price: Price) -> None:
        """Price ``model`` of ``provider`` at ``price`` from now on."""
        if provider not in PROVIDERS:
            raise ValueError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
        with self._lock:
            self._overrides[(provider, model.lower())] = price
            self._cache.clear()

    def price(self, provider: str, model: str, day: datetime.date) -> Price | None:
        """The price of ``model`` in force on ``day``, or ``None`` when it is unknown."""
        key = (provider, model)
        try:
            dated = self._cache[key]
        except KeyError:
            dated = self._resolve(provider, model)
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = dated
        return None if dated is None else dated.on(day)

    def _resolve(self, provider: str, model: str) -> _Dated | None:
        """Look ``model`` up: an override of it, of its family, or the bundled data."""
        found = self._overrides.get((provider, model.lower()))
        if found is not None:
            return _Dated((), found)
        info = _bundled_model(provider, model)
        if info is None:
            return None
        for (over_provider, over_model), price in list(self._overrides.items()):
            if over_provider == provider:
                other = _bundled_model(provider, over_model)
                if other is not None and other.id == info.id:
                    return _Dated((), price)
        return _dated_prices(info)


def price_fault(
    provider: object, model: object, rates: Mapping[str, object]
) -> tuple[str, str] | None:
    """The first field of a price that breaks its rule, and the rule; ``None`` when none does.

    The one rule for prices set in code (``set_price``) and in a prices file.

    Args:
        provider: must be one of :data:`PROVIDERS`.
        model: must be a non-empty model id.
        rates: field name -> USD per million tokens (a non-negative number).
    """
    if provider not in PROVIDERS:
        return "provider", f"must be one of {', '.join(PROVIDERS)}"
    if not isinstance(model, str) or not model.strip():
        return "model", "must be a non-empty model id"
    for field_name, value in rates.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            return (
                field_name,
                f"must be a non-negative number of USD per million tokens, not {value!r}",
            )
    return None


def warm_up() -> None:
    """Load the bundled price data (about 0.2 s, once) so that no call waits for it."""
    try:
        from genai_prices import data_snapshot
    except ImportError:
        raise ImportError(
            "LLM cost accounting needs genai-prices: "
            'pip install "greenlang-runtime[anthropic]" (or [openai])'
        ) from None
    data_snapshot.get_snapshot()


def _bundled_model(provider: str, model: str) -> Any:
    """genai-prices' ``ModelInfo`` for ``model`` (dated ids resolve to their family), or None."""
    from genai_prices import data_snapshot

    for candidate in data_snapshot.get_snapshot().providers:
        if candidate.id == provider:
            return candidate.find_model(model)
    return None


def _dated_prices(info: Any) -> _Dated:
    """A ``ModelInfo``'s prices by start date, as :class:`Price` objects."""
    from genai_prices.types import ModelPrice, StartDateConstraint

    prices = info.prices
    if isinstance(prices, ModelPrice):
        return _Dated((), _from_bundled(prices))
    fallback = _from_bundled(prices[0].prices)
    dated: list[tuple[datetime.date, Price]] = []
    for conditional in prices:
        constraint = conditional.constraint
        if constraint is None:
            # Always in force: later dated entries can no longer win.
            dated = []
            fallback = _from_bundled(conditional.prices)
        elif isinstance(constraint, StartDateConstraint):
            dated.append((constraint.start_date, _from_bundled(conditional.prices)))
    return _Dated(dated, fallback)


def _from_bundled(model_price: Any) -> Price:
    """A genai-prices ``ModelPrice`` as a :class:`Price` (only token prices are used)."""
    input_rate = _rate(model_price.input_mtok) or Rate(0.0)
    write = _rate(model_price.cache_write_mtok) or input_rate
    return Price(
        input_rate,
        _rate(model_price.output_mtok) or Rate(0.0),
        _rate(model_price.cache_read_mtok) or input_rate,
        write,
        _rate(model_price.cache_write_1h_mtok) or write,
    )


def _rate(value: Any) -> Rate | None:
    """A genai-prices price (a Decimal or ``TieredPrices``) as a :class:`Rate`."""
    if value is None:
        return None
    tiers: Iterable[Any] = getattr(value, "tiers", ())
    base = getattr(value, "base", value)
    rate = Rate(float(base), tuple((int(t.start), float(t.price)) for t in tiers))
    if not math.isfinite(rate.base):
        raise ValueError(f"genai-prices holds a price that is not a finite number: {value!r}")
    return rate
