"""OpenAI Chat Completions, Responses and embeddings: what is counted and how.

``prompt_tokens`` (Responses: ``input_tokens``) include the cached tokens
and the tokens written to the cache, so both are taken out of the uncached
input; ``completion_tokens`` already include reasoning tokens. A chat stream
reports usage only when asked (``stream_options.include_usage``): when the
caller did not ask, the request asks anyway and the extra usage-only chunk
is kept from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenlang_runtime.llm._calls import Call, Route
from greenlang_runtime.llm._usage import count

__all__ = ["PROVIDER", "ROUTES", "stream_types", "with_usage"]

PROVIDER = "openai"
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _fill(call: Call, report: Any) -> None:
    """Set the call's usage from a ``CompletionUsage``, ``ResponseUsage`` or embeddings usage."""
    if report is None:
        return
    # The models' fields, read from their __dict__: asking a pydantic model for a
    # field it does not have (input_tokens of a CompletionUsage) costs microseconds.
    fields = report.__dict__
    prompt = fields.get("input_tokens")
    if prompt is None:
        prompt = fields.get("prompt_tokens")
        details = fields.get("prompt_tokens_details")
        output = fields.get("completion_tokens")
    else:
        details = fields.get("input_tokens_details")
        output = fields.get("output_tokens")
    prompt = count(prompt)
    cached = written = 0
    if details is not None:
        detail = details.__dict__
        cached = min(count(detail.get("cached_tokens")), prompt)
        written = min(count(detail.get("cache_write_tokens")), prompt - cached)
    usage = call.usage
    usage.input = prompt - cached - written
    usage.cache_read = cached
    usage.cache_write_5m = written
    usage.cache_write_1h = 0
    usage.output = count(output)


def observe(call: Call, result: Any) -> None:
    """Read a ``ChatCompletion``, ``Response`` or ``CreateEmbeddingResponse``."""
    call.response_model = getattr(result, "model", None) or call.response_model
    _fill(call, getattr(result, "usage", None))


def chat_event(call: Call, chunk: Any) -> bool:
    """Read a ``ChatCompletionChunk``; ``False`` for the usage chunk the caller did not ask for."""
    if call.response_model is None:
        call.response_model = getattr(chunk, "model", None)
    report = getattr(chunk, "usage", None)
    if report is not None:
        _fill(call, report)
    if getattr(chunk, "choices", None):
        call.mark_first_token()
        return True
    return not (call.hide_usage_chunk and report is not None)


def responses_event(call: Call, event: Any) -> bool:
    """Read one Responses stream event; every event reaches the caller."""
    kind = getattr(event, "type", "") or ""
    if kind.endswith(".delta"):
        call.mark_first_token()
    elif kind in _FINAL_EVENTS or kind == "response.created":
        observe(call, event.response)
    return True


def with_usage(options: Any, call: Call) -> Any:
    """``options`` of a chat stream, asking for usage when the caller did not."""
    body = options.json_data
    if not isinstance(body, Mapping):
        return options
    asked = body.get("stream_options")
    if isinstance(asked, Mapping) and asked.get("include_usage") is True:
        return options
    extra = getattr(options, "extra_json", None)
    if isinstance(extra, Mapping) and "stream_options" in extra:
        return options
    kept = dict(asked) if isinstance(asked, Mapping) else {}
    # The client made these options for this call alone (and copies them before
    # sending each attempt): a new body is set on them, the caller's is untouched.
    options.json_data = {**body, "stream_options": {**kept, "include_usage": True}}
    call.hide_usage_chunk = True
    return options


ROUTES = {
    "/chat/completions": Route("chat", observe, chat_event, include_usage=True),
    "/responses": Route("chat", observe, responses_event),
    "/embeddings": Route("embeddings", observe, lambda call, item: True),
}


def stream_types() -> tuple[type, ...]:
    """The client's stream classes."""
    import openai

    return (openai.Stream, openai.AsyncStream)
