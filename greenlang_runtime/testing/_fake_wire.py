"""The bodies the fake LLM server sends, in the providers' wire formats.

Anthropic Messages (JSON, and SSE from ``message_start`` to
``message_stop``), OpenAI Chat Completions (JSON, and SSE chunks ending in
the usage chunk when ``stream_options.include_usage`` is set), the OpenAI
Responses API (JSON, and SSE ending in ``response.completed``) and OpenAI
embeddings (float lists or base64, as asked).
"""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FakeUsage",
    "RawUsage",
    "anthropic_error",
    "anthropic_events",
    "anthropic_message",
    "chat_chunks",
    "chat_completion",
    "embeddings",
    "openai_error",
    "response_events",
    "response_object",
]


@dataclass
class FakeUsage:
    """The usage every fake reply reports, field by field as on the wire.

    Args:
        input_tokens: Anthropic ``input_tokens`` (uncached input only);
            OpenAI ``prompt_tokens`` / ``input_tokens`` (all input, cached
            included).
        output_tokens: generated tokens.
        cache_read_tokens: Anthropic ``cache_read_input_tokens``; OpenAI
            ``cached_tokens``.
        cache_write_5m_tokens: Anthropic 5-minute cache writes.
        cache_write_1h_tokens: Anthropic 1-hour cache writes.
        cache_write_tokens: OpenAI ``cache_write_tokens``.
    """

    input_tokens: int = 10
    output_tokens: int = 5
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass
class RawUsage:
    """A usage report sent as it is, in place of the one a :class:`FakeUsage` builds.

    For replies no provider means to send (negative, string or missing
    counts, a list where an object belongs): ``value`` is the JSON of every
    ``usage`` of the reply, stream events included.

    Args:
        value: any JSON value.
    """

    value: Any


def _anthropic_usage(usage: FakeUsage | RawUsage, output: int) -> Any:
    if isinstance(usage, RawUsage):
        return usage.value
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": output,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation_input_tokens": usage.cache_write_5m_tokens + usage.cache_write_1h_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_write_5m_tokens,
            "ephemeral_1h_input_tokens": usage.cache_write_1h_tokens,
        },
        "service_tier": "standard",
    }


def anthropic_message(model: Any, text: str, usage: FakeUsage | RawUsage) -> dict[str, Any]:
    """A whole ``Message``."""
    return {
        "id": "msg_fake0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _anthropic_usage(usage, 0 if isinstance(usage, RawUsage) else usage.output_tokens),
    }


def anthropic_events(model: Any, words: list[str], usage: FakeUsage | RawUsage) -> Iterator[bytes]:
    """A Messages stream: start, one text block of ``words``, cumulative delta, stop."""
    start = anthropic_message(model, "", usage)
    start.update(content=[], stop_reason=None, usage=_anthropic_usage(usage, 1))
    yield _sse({"type": "message_start", "message": start}, "message_start")
    yield _sse(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        "content_block_start",
    )
    yield _sse({"type": "ping"}, "ping")
    for word in words:
        delta = {"type": "text_delta", "text": word}
        yield _sse(
            {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
        )
    yield _sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    # Like the current API: the delta repeats the input side, cumulative totals.
    if isinstance(usage, RawUsage):
        final = usage.value
    else:
        final = _anthropic_usage(usage, usage.output_tokens)
        del final["cache_creation"], final["service_tier"]
    delta_event = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": final,
    }
    yield _sse(delta_event, "message_delta")
    yield _sse({"type": "message_stop"}, "message_stop")


def anthropic_error(status: int) -> dict[str, Any]:
    """The error body Anthropic sends with ``status``."""
    kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": f"Injected {status}."}}


def _openai_usage(usage: FakeUsage | RawUsage, responses: bool) -> Any:
    if isinstance(usage, RawUsage):
        return usage.value
    total = usage.input_tokens + usage.output_tokens
    details = {
        "cached_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }
    if responses:
        return {
            "input_tokens": usage.input_tokens,
            "input_tokens_details": details,
            "output_tokens": usage.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": total,
        }
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": total,
        "prompt_tokens_details": {**details, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def chat_completion(model: Any, text: str, usage: FakeUsage | RawUsage) -> dict[str, Any]:
    """A whole ``ChatCompletion``."""
    message = {"role": "assistant", "content": text, "refusal": None}
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": _openai_usage(usage, responses=False),
        "system_fingerprint": None,
    }


def chat_chunks(
    model: Any, words: list[str], usage: FakeUsage | RawUsage, include_usage: bool
) -> Iterator[bytes]:
    """A chat stream: role, one chunk per word, finish, then usage when asked, ``[DONE]``."""
    base: dict[str, Any] = {"id": "chatcmpl-fake0001", "object": "chat.completion.chunk"}
    base.update(created=int(time.time()), model=model, system_fingerprint=None)
    if include_usage:
        base["usage"] = None
    deltas: list[tuple[dict[str, Any], str | None]] = [({"role": "assistant", "content": ""}, None)]
    deltas += [({"content": word}, None) for word in words]
    deltas.append(({}, "stop"))
    for delta, finish in deltas:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        yield _sse({**base, "choices": [choice]})
    if include_usage:
        yield _sse({**base, "choices": [], "usage": _openai_usage(usage, responses=False)})
    yield b"data: [DONE]\n\n"


def response_object(
    model: Any, text: str, usage: FakeUsage | RawUsage, done: bool = True
) -> dict[str, Any]:
    """A Responses API ``Response`` (``in_progress`` without output or usage unless ``done``)."""
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    item: dict[str, Any] = {"id": "msg_fake0001", "type": "message", "status": "completed"}
    item.update(role="assistant", content=content)
    return {
        "id": "resp_fake0001",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed" if done else "in_progress",
        "model": model,
        "output": [item] if done else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "text": {"format": {"type": "text"}},
        "usage": _openai_usage(usage, responses=True) if done else None,
    }


def response_events(model: Any, words: list[str], usage: FakeUsage | RawUsage) -> Iterator[bytes]:
    """A Responses stream: created, one text delta per word, done events, completed."""
    text = "".join(words)
    ids = {"item_id": "msg_fake0001", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    item: dict[str, Any] = {"id": "msg_fake0001", "type": "message", "status": "in_progress"}
    item.update(role="assistant", content=[])
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object(model, "", usage, done=False)},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", **ids, "part": part},
    ]
    events += [
        {"type": "response.output_text.delta", **ids, "delta": word, "logprobs": []}
        for word in words
    ]
    finished = response_object(model, text, usage)
    events += [
        {"type": "response.output_text.done", **ids, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": finished["output"][0]},
        {"type": "response.completed", "response": finished},
    ]
    for number, event in enumerate(events):
        yield _sse({**event, "sequence_number": number}, event["type"])


def embeddings(
    model: Any, count: int, base64_floats: bool, usage: FakeUsage | RawUsage
) -> dict[str, Any]:
    """A ``CreateEmbeddingResponse`` of ``count`` 4-dimensional vectors."""
    data = []
    for index in range(count):
        vector = [0.25 * (index + 1), -0.5, 0.125, 1.0]
        encoded: Any = vector
        if base64_floats:
            encoded = base64.b64encode(struct.pack("<4f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    if isinstance(usage, RawUsage):
        prompt = usage.value
    else:
        prompt = {"prompt_tokens": usage.input_tokens, "total_tokens": usage.input_tokens}
    return {"object": "list", "data": data, "model": model, "usage": prompt}


def openai_error(status: int) -> dict[str, Any]:
    """The error body OpenAI sends with ``status``."""
    kind = "rate_limit_exceeded" if status == 429 else "server_error"
    return {"error": {"message": f"Injected {status}.", "type": kind, "param": None, "code": kind}}


def _sse(data: dict[str, Any], event: str | None = None) -> bytes:
    import json

    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
