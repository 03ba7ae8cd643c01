"""Fixtures of the LLM tests: one fake provider server per module, fresh runtimes."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, metric_value


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    """A fake Anthropic/OpenAI server shared by a module's tests."""
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeLLMServer) -> FakeLLMServer:
    """The module's fake server, reset: default usage, no failures, no requests."""
    server.reset()
    return server


@pytest.fixture
def llm_value(runtime: AgentRuntime) -> Callable[..., float | None]:
    """Read an ``agent_llm_*`` sample of ``runtime`` by provider, model and extra labels."""

    def read(name: str, provider: str, model: str, **labels: str) -> float | None:
        return metric_value(runtime, name, {"provider": provider, "model": model, **labels})

    return read
