"""The fake server's bodies validate against the clients' own types, field by field."""

from __future__ import annotations

import json

import pytest
from anthropic.types import Message, RawMessageStreamEvent
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from greenlang_runtime.testing import FakeUsage
from greenlang_runtime.testing import _fake_wire as wire

USAGE = FakeUsage(
    input_tokens=700,
    output_tokens=500,
    cache_read_tokens=200,
    cache_write_5m_tokens=100,
    cache_write_1h_tokens=50,
    cache_write_tokens=30,
)
WORDS = ["Hello ", "world"]


def events(stream: bytes) -> list[dict[str, object]]:
    """The JSON data of each SSE event (``[DONE]`` left out)."""
    found = []
    for block in stream.decode().split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                found.append(json.loads(line.removeprefix("data: ")))
    return found


def test_anthropic_bodies_are_valid_messages() -> None:
    """A Message and every stream event validate strictly; the delta's usage is cumulative."""
    message = Message.model_validate(wire.anthropic_message("m", "Hi", USAGE), strict=True)
    assert message.usage.cache_creation is not None
    assert message.usage.cache_creation.ephemeral_1h_input_tokens == 50
    adapter: TypeAdapter[RawMessageStreamEvent] = TypeAdapter(RawMessageStreamEvent)
    stream = list(events(b"".join(wire.anthropic_events("m", WORDS, USAGE))))
    parsed = [adapter.validate_python(e) for e in stream if e["type"] != "ping"]
    kinds = [event.type for event in parsed]
    assert kinds == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    delta = parsed[5]
    assert delta.type == "message_delta"
    assert delta.usage.output_tokens == 500
    assert delta.usage.cache_creation_input_tokens == 150


@pytest.mark.parametrize("include_usage", [False, True])
def test_chat_bodies_are_valid_completions(include_usage: bool) -> None:
    """A ChatCompletion and its chunks validate; the usage chunk comes only when asked."""
    completion = ChatCompletion.model_validate(wire.chat_completion("gpt-4o", "Hi", USAGE))
    assert completion.usage is not None
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cache_write_tokens == 30
    chunks = [
        ChatCompletionChunk.model_validate(c)
        for c in events(b"".join(wire.chat_chunks("gpt-4o", WORDS, USAGE, include_usage)))
    ]
    assert len(chunks) == 1 + len(WORDS) + 1 + include_usage
    assert (chunks[-1].usage is not None) is include_usage


def test_responses_and_embeddings_bodies_are_valid() -> None:
    """A Response, its stream events and an embeddings reply validate."""
    response = Response.model_validate(wire.response_object("gpt-4o", "Hi", USAGE))
    assert response.output_text == "Hi"
    adapter: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)
    stream = [
        adapter.validate_python(e)
        for e in events(b"".join(wire.response_events("gpt-4o", WORDS, USAGE)))
    ]
    assert stream[-1].type == "response.completed"
    reply = CreateEmbeddingResponse.model_validate(wire.embeddings("e", 2, False, USAGE))
    assert reply.usage.prompt_tokens == 700
