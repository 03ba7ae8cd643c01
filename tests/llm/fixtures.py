"""What the Anthropic tests share: instrumented clients of the fake server and a usage."""

from __future__ import annotations

from typing import Any

import anthropic

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, FakeUsage

SONNET = "claude-sonnet-4-5"
ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}
# Uncached 700, cache read 200, 5-minute cache write 100, output 500.
CACHED = FakeUsage(
    input_tokens=700, output_tokens=500, cache_read_tokens=200, cache_write_5m_tokens=100
)
CACHED_COST = (700 * 3 + 200 * 0.30 + 100 * 3.75 + 500 * 15) / 1e6  # = 0.010035


def client(runtime: AgentRuntime, fake: FakeLLMServer, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    return runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="test", **options))


def async_client(runtime: AgentRuntime, fake: FakeLLMServer) -> anthropic.AsyncAnthropic:
    plain = anthropic.AsyncAnthropic(base_url=fake.url, api_key="test", max_retries=0)
    return runtime.instrument(plain)
