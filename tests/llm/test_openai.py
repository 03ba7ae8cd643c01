"""The official openai client, sync and async, against the fake server: every call form."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import openai
import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, FakeUsage
from tests.llm.conftest import Counted, Read

pytestmark = pytest.mark.integration

GPT = "gpt-4o"
CHAT: dict[str, Any] = {"model": GPT, "messages": [{"role": "user", "content": "Hello"}]}
# prompt_tokens 1000 include 200 cached; 300 completion tokens.
CACHED = FakeUsage(input_tokens=1000, output_tokens=300, cache_read_tokens=200)
CACHED_COST = (800 * 2.5 + 200 * 1.25 + 300 * 10) / 1e6  # = 0.00525


def client(runtime: AgentRuntime, fake: FakeLLMServer, **options: Any) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    return runtime.instrument(openai.OpenAI(base_url=fake.openai_url, api_key="test", **options))


def async_client(runtime: AgentRuntime, fake: FakeLLMServer) -> openai.AsyncOpenAI:
    plain = openai.AsyncOpenAI(base_url=fake.openai_url, api_key="test", max_retries=0)
    return runtime.instrument(plain)


def test_chat_create_takes_cached_tokens_out_of_input(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """chat.completions.create: prompt_tokens include cached_tokens, counted once each."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        completion = sdk.chat.completions.create(**CHAT)
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1000
    counted("openai", GPT, (800, 300, 200, 0), CACHED_COST)


def test_cache_write_tokens_are_cache_writes(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """cache_write_tokens leave uncached input; gpt-4o has no write price: its input price."""
    fake.usage = FakeUsage(
        input_tokens=1000, output_tokens=100, cache_read_tokens=200, cache_write_tokens=300
    )
    with client(runtime, fake) as sdk:
        sdk.chat.completions.create(**CHAT)
    cost = (500 * 2.5 + 200 * 1.25 + 300 * 2.5 + 100 * 10) / 1e6  # = 0.00325
    counted("openai", GPT, (500, 100, 200, 300), cost)


def test_async_chat_create(runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted) -> None:
    """AsyncOpenAI chat.completions.create is counted like the sync one."""
    fake.usage = CACHED

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            await sdk.chat.completions.create(**CHAT)

    asyncio.run(call())
    counted("openai", GPT, (800, 300, 200, 0), CACHED_COST)


def test_chat_stream_asks_for_usage_and_hides_the_extra_chunk(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, counted: Counted
) -> None:
    """A stream without include_usage: the request asks for it; the caller sees no usage chunk."""
    fake.usage = CACHED
    with openai.OpenAI(base_url=fake.openai_url, api_key="test") as plain:
        expected = [
            c.choices[0].delta.content for c in plain.chat.completions.create(stream=True, **CHAT)
        ]
    with client(runtime, fake) as sdk:
        chunks = list(sdk.chat.completions.create(stream=True, **CHAT))
    assert [c.choices[0].delta.content for c in chunks] == expected
    assert all(c.usage is None for c in chunks)
    assert fake.requests[-1][1]["stream_options"] == {"include_usage": True}
    counted("openai", GPT, (800, 300, 200, 0), CACHED_COST)
    assert llm_value("agent_llm_time_to_first_token_seconds_count", "openai", GPT) == 1


def test_chat_stream_that_asked_for_usage_keeps_its_chunk(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """include_usage set by the caller (async): the usage chunk reaches it; counted once."""
    fake.usage = CACHED

    async def call() -> list[Any]:
        async with async_client(runtime, fake) as sdk:
            stream = await sdk.chat.completions.create(
                stream=True, stream_options={"include_usage": True}, **CHAT
            )
            return [chunk async for chunk in stream]

    chunks = asyncio.run(call())
    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == 1000
    counted("openai", GPT, (800, 300, 200, 0), CACHED_COST)


def test_responses_create_and_stream(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """responses.create, plain and streamed (sync and async): usage from response.completed."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        response = sdk.responses.create(model=GPT, input="Hello")
        assert response.output_text == fake.text
        events = list(sdk.responses.create(model=GPT, input="Hello", stream=True))
        assert events[-1].type == "response.completed"

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            stream = await sdk.responses.create(model=GPT, input="Hello", stream=True)
            async for _ in stream:
                pass

    asyncio.run(call())
    counted("openai", GPT, (2400, 900, 600, 0), 3 * CACHED_COST, success=3)


def test_embeddings(runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted) -> None:
    """embeddings.create: prompt tokens at text-embedding-3-small's 0.02 per million."""
    fake.usage = FakeUsage(input_tokens=1000, output_tokens=0)
    model = "text-embedding-3-small"
    with client(runtime, fake) as sdk:
        result = sdk.embeddings.create(model=model, input=["a", "b"])
    assert result.data[1].embedding == [0.5, -0.5, 0.125, 1.0]

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            await sdk.embeddings.create(model=model, input="a")

    asyncio.run(call())
    counted("openai", model, (2000, 0, 0, 0), 2 * 1000 * 0.02 / 1e6, success=2)


def test_with_raw_response_forms(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """with_raw_response (JSON and stream, sync and async) is counted once per call."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(**CHAT)
        assert raw.parse().usage.completion_tokens == 300
        raw_stream = sdk.chat.completions.with_raw_response.create(stream=True, **CHAT)
        assert all(chunk.choices for chunk in raw_stream.parse())
        with sdk.responses.with_streaming_response.create(model=GPT, input="Hi") as streamed:
            usage = streamed.parse().usage
            assert usage is not None
            assert usage.output_tokens == 300

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            raw = await sdk.embeddings.with_raw_response.create(model=GPT, input="a")
            assert raw.parse().usage.prompt_tokens == 1000

    asyncio.run(call())
    # The embeddings call reports 1000 prompt tokens, none cached, and no output.
    cost = 3 * CACHED_COST + 1000 * 2.5 / 1e6
    counted("openai", GPT, (3 * 800 + 1000, 3 * 300, 3 * 200, 0), cost, success=4)


def test_chat_stream_abandoned_early(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """Broken off, closed and dropped: counted once, without the usage that never came."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        stream = sdk.chat.completions.create(stream=True, **CHAT)
        for _ in stream:
            break
        stream.close()
        counted("openai", GPT, (0, 0, 0, 0), 0.0)
        dropped = sdk.responses.create(model=GPT, input="Hi", stream=True)
        next(iter(dropped))
        del stream, dropped
        gc.collect()
    counted("openai", GPT, (0, 0, 0, 0), 0.0, success=2)


def test_async_stream_cancelled(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """A task cancelled while its chat stream waits for a chunk is counted once."""
    fake.chunk_delay = 0.05

    async def scenario() -> None:
        async with async_client(runtime, fake) as sdk:
            first = asyncio.Event()

            async def read() -> None:
                stream = await sdk.chat.completions.create(stream=True, **CHAT)
                async for _ in stream:
                    first.set()

            task = asyncio.create_task(read())
            await asyncio.wait_for(first.wait(), timeout=10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        gc.collect()

    asyncio.run(scenario())
    assert llm_value("agent_llm_requests_total", "openai", GPT, status="success") == 1
    assert llm_value("agent_llm_time_to_first_token_seconds_count", "openai", GPT) == 1


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(429, openai.RateLimitError), (500, openai.InternalServerError)],
)
def test_errors_are_counted_and_reach_the_caller_unchanged(
    runtime: AgentRuntime,
    fake: FakeLLMServer,
    llm_value: Read,
    counted: Counted,
    status: int,
    error_class: type[openai.APIStatusError],
) -> None:
    """A 429 or 500 (sync and async) raises the client's own error, counted as status error."""
    fake.fail(status, times=2)
    with client(runtime, fake) as sdk, pytest.raises(error_class) as raised:
        sdk.chat.completions.create(stream=True, **CHAT)
    assert type(raised.value) is error_class

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            await sdk.responses.create(model=GPT, input="Hi")

    with pytest.raises(error_class):
        asyncio.run(call())
    counted("openai", GPT, (0, 0, 0, 0), 0.0, success=0, error=2)
    assert llm_value("agent_llm_request_duration_seconds_count", "openai", GPT) == 2
