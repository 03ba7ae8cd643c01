"""The official anthropic client, sync and async, against the fake server: every call form."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, FakeUsage
from tests.llm.conftest import Counted, Read
from tests.llm.fixtures import ASK, CACHED, CACHED_COST, SONNET, async_client, client

pytestmark = pytest.mark.integration


def test_create_counts_the_four_buckets(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, counted: Counted
) -> None:
    """messages.create: input excludes cache reads and writes, so each bucket is a wire field."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        message = sdk.messages.create(model=SONNET, **ASK)
    assert isinstance(message, anthropic.types.Message)
    assert message.usage.input_tokens == 700
    counted("anthropic", SONNET, (700, 500, 200, 100), CACHED_COST)
    assert llm_value("agent_llm_request_duration_seconds_count", "anthropic", SONNET) == 1
    assert llm_value("agent_llm_time_to_first_token_seconds_count", "anthropic", SONNET) is None


def test_async_create_counts_the_four_buckets(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """AsyncAnthropic messages.create is counted like the sync one."""
    fake.usage = CACHED

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            await sdk.messages.create(model=SONNET, **ASK)

    asyncio.run(call())
    counted("anthropic", SONNET, (700, 500, 200, 100), CACHED_COST)


def test_stream_counts_once_and_passes_every_event_unchanged(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, counted: Counted
) -> None:
    """create(stream=True): cumulative message_delta usage is not added to message_start's."""
    fake.usage = CACHED
    with anthropic.Anthropic(base_url=fake.url, api_key="test") as plain:
        expected = [e.to_dict() for e in plain.messages.create(model=SONNET, stream=True, **ASK)]
    with client(runtime, fake) as sdk:
        seen = [e.to_dict() for e in sdk.messages.create(model=SONNET, stream=True, **ASK)]
    assert seen == expected
    counted("anthropic", SONNET, (700, 500, 200, 100), CACHED_COST)
    assert llm_value("agent_llm_time_to_first_token_seconds_count", "anthropic", SONNET) == 1


def test_async_stream_counts_once(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """AsyncAnthropic create(stream=True), read to the end, is counted once."""
    fake.usage = CACHED

    async def call() -> int:
        async with async_client(runtime, fake) as sdk:
            stream = await sdk.messages.create(model=SONNET, stream=True, **ASK)
            return len([event async for event in stream])

    # message_start, block start, a delta per word, block stop, message_delta, message_stop
    # (the client drops the ping).
    assert asyncio.run(call()) == 2 + len(fake.text.split(" ")) + 3
    counted("anthropic", SONNET, (700, 500, 200, 100), CACHED_COST)


def test_messages_stream_helper(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """messages.stream() (sync and async) gives the caller its final message; each counted once."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk, sdk.messages.stream(model=SONNET, **ASK) as stream:
        final = stream.get_final_message()
    assert final.usage.output_tokens == 500

    async def call() -> str:
        async with (
            async_client(runtime, fake) as sdk,
            sdk.messages.stream(model=SONNET, **ASK) as stream,
        ):
            return "".join([text async for text in stream.text_stream])

    assert asyncio.run(call()).strip() == fake.text
    counted("anthropic", SONNET, (1400, 1000, 400, 200), 2 * CACHED_COST, success=2)


def test_with_raw_response_forms(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """with_raw_response (JSON and stream) and with_streaming_response are each counted once."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        raw = sdk.messages.with_raw_response.create(model=SONNET, **ASK)
        assert raw.parse().usage.cache_read_input_tokens == 200
        raw_stream = sdk.messages.with_raw_response.create(model=SONNET, stream=True, **ASK)
        assert [e.type for e in raw_stream.parse()][-1] == "message_stop"
        with sdk.messages.with_streaming_response.create(model=SONNET, **ASK) as streamed:
            assert streamed.parse().usage.output_tokens == 500

    async def call() -> None:
        async with async_client(runtime, fake) as sdk:
            raw = await sdk.messages.with_raw_response.create(model=SONNET, **ASK)
            assert (await raw.parse()).usage.input_tokens == 700

    asyncio.run(call())
    counted("anthropic", SONNET, (2800, 2000, 800, 400), 4 * CACHED_COST, success=4)


@pytest.mark.parametrize("stream", [False, True])
def test_both_cache_write_durations(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted, stream: bool
) -> None:
    """5-minute writes at 3.75 and 1-hour writes at 6 per million, in one cache_write bucket."""
    fake.usage = FakeUsage(
        input_tokens=700, output_tokens=500, cache_write_5m_tokens=100, cache_write_1h_tokens=200
    )
    with client(runtime, fake) as sdk:
        if stream:
            list(sdk.messages.create(model=SONNET, stream=True, **ASK))
        else:
            sdk.messages.create(model=SONNET, **ASK)
    cost = (700 * 3 + 100 * 3.75 + 200 * 6 + 500 * 15) / 1e6  # = 0.011175
    counted("anthropic", SONNET, (700, 500, 0, 300), cost)


def test_uncached_prompt(runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted) -> None:
    """Without caching, only input and output are counted: haiku-4-5 at 1 and 5 per million."""
    fake.usage = FakeUsage(input_tokens=1200, output_tokens=300)
    with client(runtime, fake) as sdk:
        sdk.messages.create(model="claude-haiku-4-5-20251001", **ASK)
    cost = (1200 * 1 + 300 * 5) / 1e6  # = 0.0027
    counted("anthropic", "claude-haiku-4-5-20251001", (1200, 300, 0, 0), cost)


def test_prompt_past_the_long_context_tier(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """sonnet-4-5 with 250k input tokens: 6 and 22.5 per million for all tokens."""
    fake.usage = FakeUsage(input_tokens=250_000, output_tokens=500)
    with client(runtime, fake) as sdk:
        list(sdk.messages.create(model=SONNET, stream=True, **ASK))
    cost = (250_000 * 6 + 500 * 22.5) / 1e6  # = 1.51125
    counted("anthropic", SONNET, (250_000, 500, 0, 0), cost)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(429, anthropic.RateLimitError), (500, anthropic.InternalServerError)],
)
def test_errors_are_counted_and_reach_the_caller_unchanged(
    runtime: AgentRuntime,
    fake: FakeLLMServer,
    llm_value: Read,
    counted: Counted,
    status: int,
    error_class: type[anthropic.APIStatusError],
) -> None:
    """A 429 or 500 raises the client's own error; the call counts as status error."""
    fake.fail(status)
    with client(runtime, fake) as sdk, pytest.raises(error_class) as raised:
        sdk.messages.create(model=SONNET, **ASK)
    assert type(raised.value) is error_class
    assert raised.value.status_code == status
    counted("anthropic", SONNET, (0, 0, 0, 0), 0.0, success=0, error=1)
    assert llm_value("agent_llm_request_duration_seconds_count", "anthropic", SONNET) == 1
    assert llm_value("agent_llm_unpriced_requests_total", "anthropic", SONNET) == 0


def test_retried_call_counts_once(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """A 429 the client retries past is one successful call."""
    fake.usage = CACHED
    fake.fail(429)
    with client(runtime, fake, max_retries=1) as sdk:
        sdk.messages.create(model=SONNET, **ASK)
    assert len(fake.requests) == 2
    counted("anthropic", SONNET, (700, 500, 200, 100), CACHED_COST)


def test_timeouts_and_connection_errors_are_errors(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read
) -> None:
    """APITimeoutError and APIConnectionError reach the caller and count as errors."""
    fake.response_delay = 1.0
    with client(runtime, fake, timeout=0.1) as sdk, pytest.raises(anthropic.APITimeoutError):
        sdk.messages.create(model=SONNET, **ASK)
    closed = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="test", max_retries=0)
    with runtime.instrument(closed) as sdk, pytest.raises(anthropic.APIConnectionError):
        sdk.messages.create(model=SONNET, **ASK)
    assert llm_value("agent_llm_requests_total", "anthropic", SONNET, status="error") == 2


def test_instrument_is_idempotent_and_reaches_copies(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """instrument() twice returns the same client and counts once; with_options copies count."""
    fake.usage = CACHED
    plain = anthropic.Anthropic(base_url=fake.url, api_key="test", max_retries=0)
    assert runtime.instrument(plain) is plain
    assert runtime.instrument(plain) is plain
    with plain:
        plain.messages.create(model=SONNET, **ASK)
        plain.with_options(timeout=30).messages.create(model=SONNET, **ASK)
    counted("anthropic", SONNET, (1400, 1000, 400, 200), 2 * CACHED_COST, success=2)


def test_beta_messages_are_counted(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """client.beta.messages.create, plain and streamed, posts to the same path: counted."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        sdk.beta.messages.create(model=SONNET, betas=["fake-beta"], **ASK)
        list(sdk.beta.messages.create(model=SONNET, stream=True, **ASK))
    counted("anthropic", SONNET, (1400, 1000, 400, 200), 2 * CACHED_COST, success=2)
