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

from greenlang_runtime.llm._call import Call, Route, shown

__all__ = ["PROVIDER", "ROUTES", "stream_types", "with_usage"]

PROVIDER = "openai"
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def _fields(call: Call, report: Any, name: str) -> dict[str, Any] | None:
    """The fields of ``report`` (a client model); anything else is noted and read as nothing."""
    # Read from the models' __dict__: asking a pydantic model for a field it
    # does not have (input_tokens of a CompletionUsage) costs microseconds.
    fields = getattr(report, "__dict__", None)
    if type(fields) is dict:
        return fields
    if report is not None:
        call.note(f"a {name} that is not an object", f"{name}={shown(report)}, counted as 0")
    return None


def _fill(call: Call, report: Any) -> None:
    """Set the call's usage from a ``CompletionUsage``, ``ResponseUsage`` or embeddings usage."""
    fields = _fields(call, report, "usage")
    if fields is None:
        return
    if "input_tokens" in fields:  # a ResponseUsage (a CompletionUsage has no such field)
        prompt = call.count("input_tokens", fields["input_tokens"])
        details = _fields(call, fields.get("input_tokens_details"), "input_tokens_details")
        output = call.count("output_tokens", fields.get("output_tokens"))
    else:
        prompt = call.count("prompt_tokens", fields.get("prompt_tokens"))
        details = _fields(call, fields.get("prompt_tokens_details"), "prompt_tokens_details")
        output = call.count("completion_tokens", fields.get("completion_tokens"))
    cached = written = 0
    if details is not None:
        cached = min(call.count("cached_tokens", details.get("cached_tokens")), prompt)
        written = call.count("cache_write_tokens", details.get("cache_write_tokens"))
        written = min(written, prompt - cached)
    usage = call.usage
    usage.input = prompt - cached - written
    usage.cache_read = cached
    usage.cache_write_5m = written
    usage.cache_write_1h = 0
    usage.output = output


def observe(call: Call, result: Any) -> None:
    """Read a ``ChatCompletion``, ``Response`` or ``CreateEmbeddingResponse``."""
    call.report_model(getattr(result, "model", None))
    _fill(call, getattr(result, "usage", None))


def chat_event(call: Call, chunk: Any) -> bool:
    """Read a ``ChatCompletionChunk``; ``False`` for the usage chunk the caller did not ask for."""
    if call.response_model is None:
        call.report_model(getattr(chunk, "model", None))
    report = getattr(chunk, "usage", None)
    if report is not None:
        _fill(call, report)
    if getattr(chunk, "choices", None):
        call.mark_first_token()
        return True
    return not (call.hide_usage_chunk and report is not None)


def responses_event(call: Call, event: Any) -> bool:
    """Read one Responses stream event; every event reaches the caller."""
    kind = getattr(event, "type", None)
    if type(kind) is not str:
        return True
    if kind.endswith(".delta"):
        call.mark_first_token()
    elif kind in _FINAL_EVENTS or kind == "response.created":
        observe(call, getattr(event, "response", None))
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
    "/chat/completions": Route("chat", observe, chat_event, prepare_stream=with_usage),
    "/responses": Route("chat", observe, responses_event),
    "/embeddings": Route("embeddings", observe, lambda call, item: True),
}


def stream_types() -> tuple[type, ...]:
    """The client's stream classes."""
    import openai

    return (openai.Stream, openai.AsyncStream)
