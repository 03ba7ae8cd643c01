"""The typed echo capability of the in-process benchmark: the payload as a pydantic model.

Its own module, imported only by the factory that needs it: pydantic stays
out of every other benchmark process, and the annotations resolve from these
module globals.
"""

from __future__ import annotations

from pydantic import BaseModel

from greenlang_runtime import AgentRuntime

__all__ = ["Shipment", "add_typed_echo"]


class Shipment(BaseModel):
    """The benchmark payload, ``{"product", "mass_kg", "tags"}``, as a model."""

    product: str
    mass_kg: float
    tags: list[str]


async def echo_typed(payload: Shipment) -> Shipment:
    """Answer the payload: validated into the model, serialised from it."""
    return payload


def add_typed_echo(runtime: AgentRuntime) -> None:
    """Declare ``echo_typed`` on ``runtime``."""
    runtime.capability("echo_typed")(echo_typed)
