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


TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")


# llm_value(name, provider, model, **labels)
Read = Callable[..., float | None]
# counted(provider, model, tokens, cost, *, success=1, error=0)
Counted = Callable[..., None]


@pytest.fixture
def counted(llm_value: Callable[..., float | None]) -> Counted:
    """Assert a model's tokens (input, output, cache_read, cache_write), cost and outcomes."""

    def check(
        provider: str,
        model: str,
        tokens: tuple[int, int, int, int],
        cost: float,
        *,
        success: int = 1,
        error: int = 0,
    ) -> None:
        for token_type, expected in zip(TOKEN_TYPES, tokens, strict=True):
            labels = {"token_type": token_type}
            assert llm_value("agent_llm_tokens_total", provider, model, **labels) == expected
        assert llm_value("agent_llm_cost_usd_total", provider, model) == pytest.approx(cost)
        assert llm_value("agent_llm_requests_total", provider, model, status="success") == success
        assert llm_value("agent_llm_requests_total", provider, model, status="error") == error

    return check
