"""The typed payloads of the capabilities: what a caller sends and gets back."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "CalculationRequest",
    "CalculationResult",
    "Explanation",
    "GoodsLine",
    "LineResult",
    "Totals",
    "normalise_cn_code",
]

_CN_CODE = re.compile(r"\d{4}(?:\d{2}){0,2}")


def normalise_cn_code(value: str) -> str:
    """A CN code without its spaces and dots (``2523 10 00`` -> ``25231000``).

    Raises ``ValueError`` unless 4, 6 or 8 digits remain.
    """
    digits = value.replace(" ", "").replace(".", "")
    if not _CN_CODE.fullmatch(digits):
        raise ValueError("a CN code is 4, 6 or 8 digits, e.g. 2523 10 00 or 7208")
    return digits


CNCode = Annotated[str, AfterValidator(normalise_cn_code)]


class GoodsLine(BaseModel):
    """One line of an import: the good, how much of it, and where it was made."""

    model_config = ConfigDict(extra="forbid")

    cn_code: CNCode = Field(description="Combined Nomenclature code, e.g. 2523 10 00.")
    quantity: float = Field(
        ge=0,
        allow_inf_nan=False,
        description="Tonnes of the good (MWh for electricity).",
    )
    country_of_origin: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 code; reported back, the default values are world values.",
    )


class CalculationRequest(BaseModel):
    """The goods lines to compute the embedded emissions of."""

    model_config = ConfigDict(extra="forbid")

    lines: list[GoodsLine] = Field(min_length=1, max_length=1000)


class LineResult(BaseModel):
    """The embedded emissions of one goods line, with the default values applied."""

    cn_code: str
    description: str
    quantity: float
    unit: Literal["t", "MWh"]
    country_of_origin: str | None
    direct_factor: float = Field(description="tCO2e per unit, direct.")
    indirect_factor: float = Field(description="tCO2e per unit, indirect.")
    direct_tco2e: float
    indirect_tco2e: float
    total_tco2e: float


class Totals(BaseModel):
    """The sums over all lines."""

    direct_tco2e: float
    indirect_tco2e: float
    total_tco2e: float


class CalculationResult(BaseModel):
    """Embedded emissions per line and in total, and where the factors came from."""

    lines: list[LineResult]
    totals: Totals
    factors: Literal["bundled", "postgres"] = Field(
        description="bundled: the table inside the package; postgres: DATABASE_URL's table."
    )


class Explanation(BaseModel):
    """A short narrative of a calculation, when an LLM provider is configured."""

    configured: bool
    provider: Literal["anthropic", "openai"] | None
    model: str | None
    narrative: str | None
    message: str
    calculation: CalculationResult
