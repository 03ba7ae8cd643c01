"""Fixtures for the cbam_calculator example: runtimes built from a given environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from examples.cbam_calculator.cbam_calculator import agent
from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import RuntimeClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cbam_calculator"
CALCULATE = "/v1/capabilities/calculate_embedded_emissions"
EXPLAIN = "/v1/capabilities/explain"


@pytest.fixture
def make_client() -> Iterator[Callable[..., RuntimeClient]]:
    """Open in-process clients of the example built from ``environ`` (nothing else is read)."""
    opened: list[RuntimeClient] = []

    def make(environ: Mapping[str, str] | None = None) -> RuntimeClient:
        client = RuntimeClient(agent.create_runtime(dict(environ or {})))
        opened.append(client.__enter__())
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., RuntimeClient]) -> RuntimeClient:
    """The example with nothing configured: bundled factors, no cache, no LLM."""
    return make_client()


def errors_total(runtime: AgentRuntime) -> float:
    """The sum of ``agent_errors_total`` over every error type."""
    return _sum(runtime.registry, "agent_errors_total")


def _sum(registry: CollectorRegistry, name: str) -> float:
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    )
