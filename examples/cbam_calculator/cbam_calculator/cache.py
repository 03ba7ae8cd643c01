"""An optional Redis cache of calculation results (``REDIS_URL``), best effort."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from prometheus_client import Counter

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["CACHE_LOOKUPS", "ResultCache"]

logger = logging.getLogger("cbam_calculator")

# In prometheus_client's default registry, which the runtime's /metrics also serves.
CACHE_LOOKUPS = Counter(
    "cbam_result_cache_lookups",
    "Result cache lookups by outcome: hit, miss, or error (Redis failed; computed instead).",
    ["result"],
)
_HIT, _MISS, _ERROR = (CACHE_LOOKUPS.labels(result) for result in ("hit", "miss", "error"))


class ResultCache:
    """Results kept in Redis for ``ttl`` seconds, keyed by what determines them.

    A Redis failure never fails a calculation: it is logged, counted as
    ``error``, and the result is computed (and not stored).

    Args:
        url: the ``REDIS_URL``.
        ttl: how long a result is kept, in seconds.
    """

    def __init__(self, url: str, ttl: int) -> None:
        self._url = url
        self.ttl = ttl
        self._client: redis.asyncio.Redis | None = None

    async def open(self) -> None:
        """Create the client (it connects on first use)."""
        import redis.asyncio

        self._client = redis.asyncio.from_url(self._url)

    async def get(self, key: str) -> bytes | str | None:
        """The stored result of ``key``, or ``None`` on a miss or a Redis failure."""
        import redis

        if self._client is None:
            return None
        try:
            value = await self._client.get(key)
        except (redis.RedisError, OSError) as error:
            _ERROR.inc()
            logger.warning("result cache unavailable, computing instead: %s", type(error).__name__)
            return None
        (_MISS if value is None else _HIT).inc()
        return value

    async def put(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds; a failure is only logged."""
        import redis

        if self._client is None:
            return
        try:
            await self._client.set(key, value, ex=self.ttl)
        except (redis.RedisError, OSError) as error:
            logger.warning("result not cached: %s", type(error).__name__)

    async def close(self) -> None:
        """Close the client's connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
