"""The official anthropic client, sync and async, against the fake server: every call form."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import anthropic
import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer, FakeUsage
from tests.llm.conftest import Counted

pytestmark = pytest.mark.integration

SONNET = "claude-sonnet-4-5"
ASK: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "Hello"}]}
# Uncached 700, cache read 200, 5-minute cache write 100, output 500.
CACHED = FakeUsage(
    input_tokens=700, output_tokens=500, cache_read_tokens=200, cache_write_5m_tokens=100
)
CACHED_COST = (700 * 3 + 200 * 0.30 + 100 * 3.75 + 500 * 15) / 1e6  # = 0.010035

Read = Callable[..., float | None]


def client(runtime: AgentRuntime, fake: FakeLLMServer, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    return runtime.instrument(anthropic.Anthropic(base_url=fake.url, api_key="test", **options))


def async_client(runtime: AgentRuntime, fake: FakeLLMServer) -> anthropic.AsyncAnthropic:
    plain = anthropic.AsyncAnthropic(base_url=fake.url, api_key="test", max_retries=0)
    return runtime.instrument(plain)


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


# Abandoned after the first text delta: message_start told the input side and 1 output token.
EARLY_COST = (700 * 3 + 200 * 0.30 + 100 * 3.75 + 1 * 15) / 1e6  # = 0.00255


def read_to_first_text(stream: anthropic.Stream[Any]) -> None:
    """Iterate ``stream`` until its first text delta, then break out of the loop."""
    for event in stream:
        if event.type == "content_block_delta":
            break


def test_stream_abandoned_by_break_and_drop(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """A loop broken early and the stream dropped: what message_start said is counted, once."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        stream = sdk.messages.create(model=SONNET, stream=True, **ASK)
        read_to_first_text(stream)
        del stream
        gc.collect()
    counted("anthropic", SONNET, (700, 1, 200, 100), EARLY_COST)


def test_stream_abandoned_by_close(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """close() records the call at once; dropping the stream later adds nothing."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        stream = sdk.messages.create(model=SONNET, stream=True, **ASK)
        read_to_first_text(stream)
        stream.close()
        counted("anthropic", SONNET, (700, 1, 200, 100), EARLY_COST)
        with sdk.messages.stream(model=SONNET, **ASK) as helper:
            next(iter(helper.text_stream))
        del stream, helper
        gc.collect()
    counted("anthropic", SONNET, (1400, 2, 400, 200), 2 * EARLY_COST, success=2)


def test_stream_dropped_unread_is_counted_by_garbage_collection(
    runtime: AgentRuntime, fake: FakeLLMServer, llm_value: Read, counted: Counted
) -> None:
    """A stream read one event then forgotten is counted when it is collected."""
    fake.usage = CACHED
    with client(runtime, fake) as sdk:
        stream = sdk.messages.create(model=SONNET, stream=True, **ASK)
        assert next(stream).type == "message_start"
        assert llm_value("agent_llm_requests_total", "anthropic", SONNET, status="success") is None
        del stream
        gc.collect()
    # message_start was read, no text delta: input side and 1 output token.
    counted("anthropic", SONNET, (700, 1, 200, 100), EARLY_COST)
    assert llm_value("agent_llm_time_to_first_token_seconds_count", "anthropic", SONNET) is None


def test_async_stream_cancelled_mid_read(
    runtime: AgentRuntime, fake: FakeLLMServer, counted: Counted
) -> None:
    """A task cancelled while awaiting the next event: counted once, as far as it got."""
    fake.usage = CACHED
    fake.chunk_delay = 0.05

    async def scenario() -> None:
        async with async_client(runtime, fake) as sdk:
            got_text = asyncio.Event()

            async def read() -> None:
                stream = await sdk.messages.create(model=SONNET, stream=True, **ASK)
                async for event in stream:
                    if event.type == "content_block_delta":
                        got_text.set()

            task = asyncio.create_task(read())
            await asyncio.wait_for(got_text.wait(), timeout=10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        gc.collect()

    asyncio.run(scenario())
    counted("anthropic", SONNET, (700, 1, 200, 100), EARLY_COST)


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
