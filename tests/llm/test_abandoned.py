"""Anthropic streams the caller stops reading early: counted once, as far as they got."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import anthropic
import pytest

from greenlang_runtime import AgentRuntime
from greenlang_runtime.testing import FakeLLMServer
from tests.llm.conftest import Counted, Read
from tests.llm.fixtures import ASK, CACHED, SONNET, async_client, client

pytestmark = pytest.mark.integration

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
