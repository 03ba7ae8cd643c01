"""One call's tokens in the four buckets that are priced and counted apart.

Providers report usage differently (Anthropic's ``input_tokens`` leave cache
reads and writes out; OpenAI's ``prompt_tokens`` hold its cached tokens);
each provider module turns its own report into a :class:`Usage`, in which
no token is in two buckets.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TOKEN_TYPES", "Usage", "count"]

# The values of the ``token_type`` label, in the order Usage.buckets gives them.
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")


def count(value: Any) -> int:
    """A token count from a report field: ``None`` and anything not a number are 0."""
    return value if type(value) is int and value > 0 else 0


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
