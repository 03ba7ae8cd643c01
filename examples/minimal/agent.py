"""A minimal agent: two capabilities, a warm-up hook and a clean shutdown.

Serve it with ``greenlang-runtime run examples.minimal.agent:runtime`` from the
repository root (or ``make demo``).
"""

from __future__ import annotations

import asyncio
import logging

from greenlang_runtime import AgentRuntime

logger = logging.getLogger(__name__)

runtime = AgentRuntime(agent_id="gl-echo-agent", version="0.1.0", tenant_id="demo")

# Emission factors in kg CO2e per kg of product (illustrative values).
_FACTORS = {"steel": 1.85, "aluminium": 8.6, "cement": 0.62}


@runtime.capability
def echo(payload: dict[str, object]) -> dict[str, object]:
    """Return the payload as it came."""
    return payload


@runtime.capability("embedded-emissions", max_concurrency=8)
async def embedded_emissions(payload: dict[str, object]) -> dict[str, object]:
    """Embedded emissions of a shipment: mass (kg) times the product's factor."""
    product = str(payload["product"])
    mass_kg = float(payload["mass_kg"])  # type: ignore[arg-type]
    await asyncio.sleep(0)  # a real agent would call a model or a database here
    return {"product": product, "kg_co2e": round(mass_kg * _FACTORS[product], 6)}


@runtime.on_startup
async def warm_up() -> None:
    """Load what the capabilities need before the agent reports started."""
    await asyncio.sleep(0.1)
    logger.info("emission factors loaded: %d products", len(_FACTORS))


@runtime.on_shutdown
def close() -> None:
    """Release what warm_up took."""
    logger.info("bye")


if __name__ == "__main__":
    runtime.run()
