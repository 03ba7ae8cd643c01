"""Anthropic Messages: which calls are counted and how their usage is read.

``usage.input_tokens`` leaves cache reads and writes out, so the four
buckets are the report's fields as they are; cache writes are split by
duration from ``usage.cache_creation``. In a stream, ``message_start``
carries the input side and ``message_delta`` cumulative totals: each field
takes the last value reported, never a sum. Fields are read from the
models' ``__dict__``: the client builds response models without checking
them, so any field may hold any JSON value, and an unusable one is counted
as what it can be (see :meth:`Call.count`).
"""

from __future__ import annotations

from typing import Any

from greenlang_runtime.llm._calls import Call, Route, shown
from greenlang_runtime.llm._usage import MAX_COUNT, Usage

__all__ = ["PROVIDER", "ROUTES", "stream_types"]

PROVIDER = "anthropic"


def _fields(call: Call, report: Any, name: str) -> dict[str, Any] | None:
    """The fields of ``report`` (a client model); anything else is noted and read as nothing."""
    fields = getattr(report, "__dict__", None)
    if type(fields) is dict:
        return fields
    if report is not None:
        call.note(f"a {name} that is not an object", f"{name}={shown(report)}, counted as 0")
    return None


def _fill(call: Call, report: Any) -> None:
    """Set the call's usage from a ``Usage`` report of a whole message (or ``message_start``)."""
    fields = getattr(report, "__dict__", None)
    if type(fields) is not dict:
        _fields(call, report, "usage")
        return
    usage, get, top = call.usage, fields.get, MAX_COUNT
    # Runs on every call: a whole number in range is taken inline; anything
    # else (None included) goes through Call.count.
    v = get("input_tokens")
    usage.input = v if type(v) is int and 0 <= v <= top else call.count("input_tokens", v)
    v = get("output_tokens")
    usage.output = v if type(v) is int and 0 <= v <= top else call.count("output_tokens", v)
    v = get("cache_read_input_tokens")
    usage.cache_read = (
        v if type(v) is int and 0 <= v <= top else call.count("cache_read_input_tokens", v)
    )
    v = get("cache_creation_input_tokens")
    written = (
        v if type(v) is int and 0 <= v <= top else call.count("cache_creation_input_tokens", v)
    )
    hour = 0
    split = get("cache_creation")
    if split is not None:
        durations = getattr(split, "__dict__", None)
        if type(durations) is dict:
            v = durations.get("ephemeral_1h_input_tokens")
            hour = (
                v
                if type(v) is int and 0 <= v <= top
                else call.count("ephemeral_1h_input_tokens", v)
            )
            if not written:
                v = durations.get("ephemeral_5m_input_tokens")
                written = hour + call.count("ephemeral_5m_input_tokens", v)
        else:
            _fields(call, split, "cache_creation")
    _set_written(usage, written, hour)


def _set_written(usage: Usage, written: int, one_hour: int) -> None:
    usage.cache_write_1h = min(one_hour, written)
    usage.cache_write_5m = written - usage.cache_write_1h


def observe(call: Call, message: Any) -> None:
    """Read a whole ``Message``."""
    model = getattr(message, "model", None)
    if type(model) is str and model:
        call.response_model = model
    else:
        call.report_model(model)
    _fill(call, getattr(message, "usage", None))


def event(call: Call, item: Any) -> bool:
    """Read one stream event; every event reaches the caller."""
    kind = getattr(item, "type", None)
    if kind == "content_block_delta":
        call.mark_first_token()
    elif kind == "message_start":
        observe(call, getattr(item, "message", None))
    elif kind == "message_delta":
        fields = _fields(call, getattr(item, "usage", None), "usage")
        if fields is not None:
            usage = call.usage
            get = fields.get
            value = get("output_tokens")
            if value is not None:
                usage.output = call.count("output_tokens", value)
            value = get("input_tokens")
            if value is not None:
                usage.input = call.count("input_tokens", value)
            value = get("cache_read_input_tokens")
            if value is not None:
                usage.cache_read = call.count("cache_read_input_tokens", value)
            value = get("cache_creation_input_tokens")
            if value is not None:
                # The delta has no split by duration: the start's 1-hour share holds.
                written = call.count("cache_creation_input_tokens", value)
                _set_written(usage, written, usage.cache_write_1h)
    return True


# client.beta.messages posts to the same path (beta=true goes in the query).
ROUTES = {"/v1/messages": Route("chat", observe, event)}


def stream_types() -> tuple[type, ...]:
    """The client's stream classes."""
    import anthropic

    return (anthropic.Stream, anthropic.AsyncStream)
