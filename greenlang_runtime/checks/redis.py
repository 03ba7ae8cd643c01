"""The ``redis`` check: ``PING`` on a small pool of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime.checks._check import Check, server_check

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["redis_check"]

_POOL_SIZE = 2


class _RedisProbe:
    """PINGs over a pool of at most two connections, opened on first use."""

    def __init__(self, url: str, timeout: float) -> None:
        self._url = url
        self._timeout = timeout
        self._client: Redis | None = None

    async def __call__(self) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        if self._client is None:
            self._client = Redis.from_url(
                self._url,
                max_connections=_POOL_SIZE,
                socket_connect_timeout=self._timeout,
                socket_timeout=self._timeout,
                # The check's own cadence is the retry; a retry inside one
                # probe would only hide how long the server took.
                retry=Retry(NoBackoff(), 0),
            )
        try:
            await self._client.ping()
        except BaseException:
            # Drop connections a failed or cancelled PING may have left half-read.
            await self._client.connection_pool.disconnect(inuse_connections=True)
            raise

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def redis_check(
    url: str, *, name: str = "redis", critical: bool = True, timeout: float, interval: float
) -> Check:
    """A check of the Redis server at ``url`` (needs the ``redis`` extra)."""
    return server_check(
        name,
        url,
        ("redis.asyncio", "redis"),
        lambda: _RedisProbe(url, timeout),
        critical=critical,
        timeout=timeout,
        interval=interval,
    )
