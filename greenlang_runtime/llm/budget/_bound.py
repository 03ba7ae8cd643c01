"""The reservation: an upper bound of what a call can cost, worked out before it is sent.

- Input: the request body's size in UTF-8 bytes, taken as a number of input
  tokens (a token is at least one byte of text in the providers'
  tokenizers), at the model's highest input-side price: uncached input,
  cache reads and both cache-write durations, in every long-context tier
  the prompt could reach.
- Output: the most tokens the call may generate (Anthropic ``max_tokens``;
  OpenAI chat ``max_completion_tokens`` or ``max_tokens``, times ``n``;
  Responses ``max_output_tokens``; embeddings none) at the model's highest
  output price, or :data:`DEFAULT_MAX_OUTPUT_TOKENS` where the request sets
  no limit.
- A model without a price reserves 0, as it costs 0 in the counters.

Amounts are whole nano-USD, rounded up.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from greenlang_runtime.llm.pricing import Price, Rate

__all__ = ["DEFAULT_MAX_OUTPUT_TOKENS", "NANO", "bound", "output_limit", "request_bytes"]

# Output tokens reserved for a request that sets no limit (OpenAI lets the
# model decide). Set max_completion_tokens / max_output_tokens for a tighter,
# and exact, bound.
DEFAULT_MAX_OUTPUT_TOKENS: Final = 4096
# USD -> whole nano-USD.
NANO: Final = 1_000_000_000
_PER_MILLION: Final = 1_000_000

# The fields that cap a call's output, by API path, in the order they are read.
_OUTPUT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "/v1/messages": ("max_tokens",),
    "/chat/completions": ("max_completion_tokens", "max_tokens"),
    "/responses": ("max_output_tokens",),
    "/embeddings": (),
}


# The clients' markers of an argument left out (dropped before sending).
_OMITTED: Final = frozenset({"NotGiven", "Omit"})


def request_bytes(body: Any, extra: Any = None) -> int:
    """The size of the request's JSON body (and its ``extra_body``) in UTF-8 bytes."""
    size = 0
    for part in (body, extra):
        if isinstance(part, Mapping):
            part = {k: v for k, v in part.items() if type(v).__name__ not in _OMITTED}
        if part:
            text = json.dumps(part, ensure_ascii=False, separators=(",", ":"), default=str)
            size += len(text.encode("utf-8", "surrogatepass"))
    return size


def _whole(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def output_limit(path: str, body: Mapping[str, Any]) -> int:
    """The most output tokens a request on ``path`` may bring (see the module's docstring)."""
    fields = _OUTPUT_FIELDS.get(path)
    if fields is None:
        return DEFAULT_MAX_OUTPUT_TOKENS
    if not fields:
        return 0
    for field in fields:
        value = _whole(body.get(field))
        if value is not None:
            choices = _whole(body.get("n")) if path == "/chat/completions" else None
            return value * max(choices or 1, 1)
    return DEFAULT_MAX_OUTPUT_TOKENS


def _highest(rate: Rate, prompt: int) -> float:
    """The highest rate of ``rate`` for a prompt of at most ``prompt`` tokens."""
    highest = rate.base
    for start, tier_rate in rate.tiers:
        if prompt > start:
            highest = max(highest, tier_rate)
    return highest


def bound(price: Price | None, input_tokens: int, output_tokens: int) -> int:
    """Nano-USD that ``input_tokens`` in and ``output_tokens`` out can cost at most."""
    if price is None:
        return 0
    input_rate = max(
        _highest(rate, input_tokens)
        for rate in (price.input, price.cache_read, price.cache_write, price.cache_write_1h)
    )
    output_rate = _highest(price.output, input_tokens)
    micro = input_tokens * input_rate + output_tokens * output_rate
    # Whole nano-USD: micro-USD per million is USD, times NANO.
    return math.ceil(micro * NANO / _PER_MILLION)
