"""The cbam-calculator agent: embedded emissions of imported goods under the EU CBAM.

Runs with nothing configured (the bundled default values, no cache, no LLM);
``DATABASE_URL`` switches the factors to a PostgreSQL table, ``REDIS_URL``
turns on the result cache, ``ANTHROPIC_API_KEY`` (or ``OPENAI_API_KEY``)
lets ``explain`` write its narrative, and ``GL_LLM_LEDGER_URL`` records
each of its LLM calls as a row of the runtime's usage ledger.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from greenlang_runtime import AgentRuntime

from .cache import ResultCache
from .calculator import Calculator
from .factors import BundledFactors, PostgresFactors
from .models import CalculationRequest, CalculationResult, Explanation
from .narrative import NOT_CONFIGURED, Narrator

__all__ = ["CACHE_TTL_SECONDS", "create_runtime", "runtime"]

# Results depend on the factor table, which an operator may correct in PostgreSQL:
# five minutes bounds how long a cached result can lag behind.
CACHE_TTL_SECONDS = 300


def _version() -> str:
    # A source checkout (the repository's example, `make demo`) reads its pyproject.toml.
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as file:
            version: str = tomllib.load(file)["project"]["version"]
            return version
    return metadata.version("cbam-calculator")


def create_runtime(environ: Mapping[str, str] | None = None) -> AgentRuntime:
    """The agent, configured from ``environ`` (default: ``os.environ``).

    The identity defaults to the spec's values for a local run; the
    Deployment sets ``AGENT_ID``, ``AGENT_VERSION``, ``TENANT_ID`` and
    ``ENVIRONMENT``.
    """
    env = dict(os.environ if environ is None else environ)
    identity = {"AGENT_ID": "cbam-calculator", "AGENT_VERSION": _version(), "TENANT_ID": "demo"}
    runtime = AgentRuntime(environ={**identity, **env})
    settings = runtime.settings
    factors = (
        BundledFactors()
        if settings.database_url is None
        else PostgresFactors(settings.database_url.reveal())
    )
    cache = (
        None
        if settings.redis_url is None
        else ResultCache(settings.redis_url.reveal(), CACHE_TTL_SECONDS)
    )
    # The answer does not wait for Redis to store it; the drain waits for pending writes.
    calculator = Calculator(factors, cache, spawn=runtime.create_task)
    narrator = Narrator.from_environ(env)

    @runtime.capability(max_concurrency=64)
    async def calculate_embedded_emissions(request: CalculationRequest) -> CalculationResult:
        """Direct, indirect and total embedded emissions (tCO2e) of goods lines."""
        return await calculator.calculate(request)

    @runtime.capability(max_concurrency=8)
    async def explain(request: CalculationRequest) -> Explanation:
        """The calculation, with a short narrative by an LLM when a provider key is set."""
        result = await calculator.calculate(request)
        if narrator is None:
            return Explanation(
                configured=False,
                provider=None,
                model=None,
                narrative=None,
                message=NOT_CONFIGURED,
                calculation=result,
            )
        return Explanation(
            configured=True,
            provider=narrator.provider,
            model=narrator.model,
            narrative=await narrator.narrate(result),
            message=f"Written by {narrator.model}; check every figure against the calculation.",
            calculation=result,
        )

    @runtime.on_startup
    async def connect() -> None:
        """Create and seed the factor table, open the cache and the LLM client as configured."""
        if isinstance(factors, PostgresFactors):
            await factors.open()
        if cache is not None:
            await cache.open()
        if narrator is not None:
            narrator.open(runtime)

    @runtime.on_shutdown
    async def disconnect() -> None:
        """Close what connect opened."""
        if isinstance(factors, PostgresFactors):
            await factors.close()
        if cache is not None:
            await cache.close()
        if narrator is not None:
            await narrator.close()

    return runtime


runtime = create_runtime()
