"""One call's tokens in the four buckets that are priced and counted apart.

Providers report usage differently (Anthropic's ``input_tokens`` leave cache
reads and writes out; OpenAI's ``prompt_tokens`` hold its cached tokens);
each provider module turns its own report into a :class:`Usage`, in which
no token is in two buckets.
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = ["MAX_COUNT", "TOKEN_TYPES", "Usage", "salvage"]

# The values of the ``token_type`` label, in the order Usage.buckets gives them.
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
# No call has this many tokens; above it a float (the cost, the exposition)
# no longer holds a count exactly, and past 1e308 not at all.
MAX_COUNT: Final = 2**53


def salvage(value: Any) -> tuple[int, str]:
    """What a count that is not a whole number from 0 to ``MAX_COUNT`` is counted as, and why.

    Only a finite, non-negative number below the bound keeps a value (its
    whole part); everything else counts 0.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0, "a token count that is not a number"
    if isinstance(value, float) and not math.isfinite(value):
        return 0, "a token count that is not a number"
    if value > MAX_COUNT:
        return 0, "a token count too large to be one"
    if value < 0:
        return 0, "a negative token count"
    return int(value), "a token count that is not a whole number"


class Usage:
    """Tokens of one call, each in exactly one bucket.

    Args:
        input: input tokens neither read from nor written to a cache.
        output: generated tokens (reasoning included).
        cache_read: input tokens read from a cache.
        cache_write_5m: input tokens written to a cache kept 5 minutes (or
            the provider's default duration).
        cache_write_1h: input tokens written to a cache kept 1 hour.
    """

    __slots__ = ("cache_read", "cache_write_1h", "cache_write_5m", "input", "output")

    def __init__(
        self,
        input: int = 0,
        output: int = 0,
        cache_read: int = 0,
        cache_write_5m: int = 0,
        cache_write_1h: int = 0,
    ) -> None:
        self.input = input
        self.output = output
        self.cache_read = cache_read
        self.cache_write_5m = cache_write_5m
        self.cache_write_1h = cache_write_1h

    def __repr__(self) -> str:
        return (
            f"Usage(input={self.input}, output={self.output}, cache_read={self.cache_read}, "
            f"cache_write_5m={self.cache_write_5m}, cache_write_1h={self.cache_write_1h})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Usage):
            return NotImplemented
        return self.buckets == other.buckets and self.cache_write_1h == other.cache_write_1h

    __hash__ = None  # type: ignore[assignment]

    @property
    def cache_write(self) -> int:
        """Cache writes of both durations."""
        return self.cache_write_5m + self.cache_write_1h

    @property
    def prompt(self) -> int:
        """Every input token, cached or not: what decides a price tier."""
        return self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h

    @property
    def buckets(self) -> tuple[int, int, int, int]:
        """The counts in the order of :data:`TOKEN_TYPES`."""
        return (self.input, self.output, self.cache_read, self.cache_write)
