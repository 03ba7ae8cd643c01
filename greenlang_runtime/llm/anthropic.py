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

from greenlang_runtime.llm._call import Call, Route, shown
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
    try:
        inp, out = report.input_tokens or 0, report.output_tokens or 0
        read, written = report.cache_read_input_tokens or 0, report.cache_creation_input_tokens or 0
        split = report.cache_creation
    except AttributeError:  # not the client's Usage model: a list, a string, a number
        _fields(call, report, "usage")
        return
    hour = five = 0
    if split is not None:
        try:
            hour = split.ephemeral_1h_input_tokens or 0
            five = split.ephemeral_5m_input_tokens or 0
        except AttributeError:
            _fields(call, split, "cache_creation")
    # Runs on every call: the usual report (whole numbers in range; a false
    # value is 0) passes one check; only the others are read field by field.
    if not (
        type(inp) is int
        and type(out) is int
        and type(read) is int
        and type(written) is int
        and type(hour) is int
        and type(five) is int
        # OR of whole numbers: negative if any is, and above the bound if any is.
        and 0 <= (inp | out | read | written | hour | five) <= MAX_COUNT
    ):
        inp, out = call.count("input_tokens", inp), call.count("output_tokens", out)
        read = call.count("cache_read_input_tokens", read)
        written = call.count("cache_creation_input_tokens", written)
        hour = call.count("ephemeral_1h_input_tokens", hour)
        five = call.count("ephemeral_5m_input_tokens", five)
    usage = call.usage
    usage.input, usage.output, usage.cache_read = inp, out, read
    _set_written(usage, written or hour + five, hour)


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
