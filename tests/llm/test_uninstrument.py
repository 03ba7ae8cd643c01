"""runtime.uninstrument(): the official clients, against the fake server, are plain again."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import openai
import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer
from tests.llm.conftest import Read
from tests.llm.fixtures import ASK, SONNET

pytestmark = pytest.mark.integration

GPT = "gpt-4o"
CHAT: dict[str, Any] = {"model": GPT, "messages": [{"role": "user", "content": "Hello"}]}


def successes(llm_value: Read, provider: str, model: str) -> float | None:
    return llm_value("agent_llm_requests_total", provider, model, status="success")


def test_calls_after_uninstrument_are_not_counted(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """One call counted, then uninstrument(): the next two calls are not; the same client back."""
    plain = openai.OpenAI(base_url=fake.openai_url, api_key="t", max_retries=0)
    with runtime.instrument(plain) as sdk:
        sdk.chat.completions.create(**CHAT)
        assert runtime.uninstrument(sdk) is plain
        sdk.chat.completions.create(**CHAT)
        sdk.chat.completions.create(**CHAT)
    assert successes(llm_value, "openai", GPT) == 1
    assert len(fake.requests) == 3


def test_an_uninstrumented_stream_is_the_plain_clients(
    runtime: AgentRuntime, fake: FakeLLMServer
) -> None:
    """After uninstrument() a stream is not asked for its usage: the request is the caller's."""
    with openai.OpenAI(base_url=fake.openai_url, api_key="t", max_retries=0) as sdk:
        runtime.uninstrument(runtime.instrument(sdk))
        chunks = list(sdk.chat.completions.create(stream=True, **CHAT))
    assert "stream_options" not in fake.requests[-1][1]
    # The fake sends a role chunk, one per word, a finish chunk and no usage chunk.
    assert chunks[-1].usage is None
    assert type(sdk).request is sdk.request.__func__  # type: ignore[attr-defined]


def test_uninstrument_is_idempotent_and_later_copies_are_plain(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """Twice is as once; a copy made before stays counted, copies made after are plain."""
    sdk = runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="t", max_retries=0))
    before = sdk.with_options(timeout=30)
    runtime.uninstrument(sdk)
    runtime.uninstrument(sdk)
    after = sdk.with_options(timeout=30)
    after.messages.create(model=SONNET, **ASK)
    sdk.messages.create(model=SONNET, **ASK)
    assert successes(llm_value, "anthropic", SONNET) is None
    before.messages.create(model=SONNET, **ASK)
    assert successes(llm_value, "anthropic", SONNET) == 1
    for client in (sdk, before, after):
        client.close()


def test_async_client_uninstrumented_then_instrumented_again(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """An AsyncAnthropic: not counted while uninstrumented, counted again once instrumented."""

    async def calls() -> None:
        plain = anthropic.AsyncAnthropic(base_url=fake.url, api_key="t", max_retries=0)
        async with runtime.instrument(plain) as sdk:
            runtime.uninstrument(sdk)
            await sdk.messages.create(model=SONNET, **ASK)
            runtime.instrument(sdk)
            await sdk.messages.create(model=SONNET, **ASK)

    asyncio.run(calls())
    assert successes(llm_value, "anthropic", SONNET) == 1
    assert len(fake.requests) == 2


def test_uninstrument_of_a_plain_client_changes_nothing(runtime: AgentRuntime) -> None:
    """A client never instrumented keeps its attributes: nothing is set or taken."""
    sdk = openai.OpenAI(base_url="http://127.0.0.1:9", api_key="t")
    before = dict(sdk.__dict__)
    assert runtime.uninstrument(sdk) is sdk
    assert sdk.__dict__ == before
    sdk.close()


def test_uninstrument_rejects_other_objects(runtime: AgentRuntime) -> None:
    """Anything but an anthropic or openai client: a TypeError naming its type."""
    with pytest.raises(
        TypeError, match=r"^runtime.uninstrument\(\) takes an anthropic or openai client, not dict$"
    ):
        runtime.uninstrument({})
