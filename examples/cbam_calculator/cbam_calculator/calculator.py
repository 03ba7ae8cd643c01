"""Embedded emissions of goods lines: quantity times the default direct and indirect values."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from greenlang_runtime import InvalidInput

from .cache import ResultCache
from .factors import Factor, FactorSource, match, prefixes
from .models import (
    CalculationRequest,
    CalculationResult,
    GoodsLine,
    LineResult,
    Totals,
)

__all__ = ["Calculator"]

# tCO2e to the gram: finer digits would only carry floating-point noise.
_PLACES = Decimal("0.000001")


def _tonnes(quantity: float, factor: Decimal) -> Decimal:
    """``quantity`` x ``factor`` in tCO2e, rounded to the gram."""
    # repr() gives the shortest decimal that reads back as the same float: 12.5 stays 12.5.
    return (Decimal(repr(quantity)) * factor).quantize(_PLACES)


class Calculator:
    """Computes a :class:`CalculationResult`, through the result cache when there is one.

    Args:
        factors: where the default values come from.
        cache: the Redis result cache, or ``None``.
        spawn: starts the cache write after the answer, e.g. ``runtime.create_task``
            (the drain then waits for it); default: the write is awaited first.
    """

    def __init__(
        self,
        factors: FactorSource,
        cache: ResultCache | None = None,
        spawn: Callable[[Coroutine[Any, Any, None], str], object] | None = None,
    ) -> None:
        self.factors = factors
        self.cache = cache
        self._spawn = spawn

    async def calculate(self, request: CalculationRequest) -> CalculationResult:
        """The emissions of ``request``'s lines; :class:`InvalidInput` for an unknown CN code."""
        if self.cache is None:
            return await self._compute(request)
        # The request's normalised JSON and the factor source determine the result.
        digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
        key = f"cbam-calculator:v1:{self.factors.name}:{digest}"
        cached = await self.cache.get(key)
        if cached is not None:
            return CalculationResult.model_validate_json(cached)
        result = await self._compute(request)
        write = self.cache.put(key, result.model_dump_json().encode())
        if self._spawn is None:
            await write
        else:
            self._spawn(write, "cache-write")
        return result

    async def _compute(self, request: CalculationRequest) -> CalculationResult:
        codes = {prefix for line in request.lines for prefix in prefixes(line.cn_code)}
        found = await self.factors.lookup(codes)
        matched = [match(line.cn_code, found) for line in request.lines]
        unknown = [index for index, factor in enumerate(matched) if factor is None]
        if unknown:
            raise InvalidInput(
                f"{len(unknown)} goods line{'s' if len(unknown) != 1 else ''} "
                f"{'have CN codes' if len(unknown) != 1 else 'has a CN code'} "
                "with no default value in the emission-factor table.",
                [
                    {
                        "loc": ["lines", index, "cn_code"],
                        "msg": f"No default value for CN code {request.lines[index].cn_code}.",
                        "type": "unknown_cn_code",
                    }
                    for index in unknown
                ],
            )
        factors = [factor for factor in matched if factor is not None]
        pairs = list(zip(request.lines, factors, strict=True))
        direct = [_tonnes(line.quantity, factor.direct) for line, factor in pairs]
        indirect = [_tonnes(line.quantity, factor.indirect) for line, factor in pairs]
        return CalculationResult(
            lines=[
                _line_result(line, factor, d, i)
                for (line, factor), d, i in zip(pairs, direct, indirect, strict=True)
            ],
            totals=Totals(
                direct_tco2e=float(sum(direct)),
                indirect_tco2e=float(sum(indirect)),
                total_tco2e=float(sum(direct) + sum(indirect)),
            ),
            factors="postgres" if self.factors.name == "postgres" else "bundled",
        )


def _line_result(line: GoodsLine, factor: Factor, direct: Decimal, indirect: Decimal) -> LineResult:
    """One line's answer: what was asked, the values applied and the emissions."""
    return LineResult(
        cn_code=line.cn_code,
        description=factor.description,
        quantity=line.quantity,
        unit="MWh" if factor.unit == "MWh" else "t",
        country_of_origin=line.country_of_origin,
        direct_factor=float(factor.direct),
        indirect_factor=float(factor.indirect),
        direct_tco2e=float(direct),
        indirect_tco2e=float(indirect),
        total_tco2e=float(direct + indirect),
    )
