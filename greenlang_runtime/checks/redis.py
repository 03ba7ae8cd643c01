"""The ``redis`` check: ``PING`` on a small pool of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime._redact import url_secrets
from greenlang_runtime.checks._check import Check
from greenlang_runtime.exceptions import DependencyError

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
    try:
        import redis.asyncio  # noqa: F401 - fail at start, not at the first probe
    except ImportError:
        raise DependencyError(name, "redis") from None
    probe = _RedisProbe(url, timeout)
    return Check(
        name,
        probe,
        critical=critical,
        timeout=timeout,
        interval=interval,
        close=probe.close,
        secrets=url_secrets(url),
    )
