"""Anthropic Messages: which calls are counted and how their usage is read.

``usage.input_tokens`` leaves cache reads and writes out, so the four
buckets are the report's fields as they are; cache writes are split by
duration from ``usage.cache_creation``. In a stream, ``message_start``
carries the input side and ``message_delta`` cumulative totals: each field
takes the last value reported, never a sum.
"""

from __future__ import annotations

from typing import Any

from greenlang_runtime.llm._calls import Call, Route
from greenlang_runtime.llm._usage import Usage, count

__all__ = ["PROVIDER", "ROUTES", "stream_types"]

PROVIDER = "anthropic"


def _fill(usage: Usage, report: Any) -> None:
    """Set ``usage`` from a ``Usage`` report of a whole message (or ``message_start``)."""
    # The client's own types: each field an int, or None where the API left it out.
    usage.input = report.input_tokens or 0
    usage.output = report.output_tokens or 0
    usage.cache_read = report.cache_read_input_tokens or 0
    written = report.cache_creation_input_tokens or 0
    split = report.cache_creation
    one_hour = 0
    if split is not None:
        one_hour = split.ephemeral_1h_input_tokens or 0
        if not written:
            written = one_hour + (split.ephemeral_5m_input_tokens or 0)
    _set_written(usage, written, one_hour)


def _set_written(usage: Usage, written: int, one_hour: int) -> None:
    usage.cache_write_1h = min(one_hour, written)
    usage.cache_write_5m = written - usage.cache_write_1h


def observe(call: Call, message: Any) -> None:
    """Read a whole ``Message``."""
    call.response_model = getattr(message, "model", None) or call.response_model
    report = getattr(message, "usage", None)
    if report is not None:
        _fill(call.usage, report)


def event(call: Call, item: Any) -> bool:
    """Read one stream event; every event reaches the caller."""
    kind = getattr(item, "type", None)
    if kind == "content_block_delta":
        call.mark_first_token()
    elif kind == "message_start":
        observe(call, item.message)
    elif kind == "message_delta":
        report = getattr(item, "usage", None)
        if report is not None:
            usage = call.usage
            output = getattr(report, "output_tokens", None)
            if output is not None:
                usage.output = count(output)
            value = getattr(report, "input_tokens", None)
            if value is not None:
                usage.input = count(value)
            value = getattr(report, "cache_read_input_tokens", None)
            if value is not None:
                usage.cache_read = count(value)
            value = getattr(report, "cache_creation_input_tokens", None)
            if value is not None:
                # The delta has no split by duration: the start's 1-hour share holds.
                _set_written(usage, count(value), usage.cache_write_1h)
    return True


# client.beta.messages posts to the same path (beta=true goes in the query).
ROUTES = {"/v1/messages": Route("chat", observe, event)}


def stream_types() -> tuple[type, ...]:
    """The client's stream classes."""
    import anthropic

    return (anthropic.Stream, anthropic.AsyncStream)
