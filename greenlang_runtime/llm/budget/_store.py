"""The budget's Redis: a sync client for sync callers and the settler, an async one per loop.

A sync LLM client reserves over the sync client in the caller's thread; an
async one over ``redis.asyncio`` on its own event loop, so the loop is never
blocked. Scripts run by ``EVALSHA`` and are loaded again by redis-py when the
server has lost them (a restart). No retry inside one operation: a failure is
reported at once, and the guard decides (``GL_LLM_BUDGET_ON_ERROR``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import greenlang_runtime.llm.budget._scripts as _scripts

if TYPE_CHECKING:
    import redis
    import redis.asyncio

__all__ = ["TIMEOUT_SECONDS", "RedisStore", "redis_errors"]

# A hung Redis holds a call up for at most this long before the guard decides.
TIMEOUT_SECONDS: Final = 2.0
_NAMES: Final = ("RESERVE", "SETTLE", "REFRESH", "READ")


def redis_errors() -> tuple[type[BaseException], ...]:
    """What a failed Redis operation raises: the library's errors and the socket's."""
    from redis.exceptions import RedisError

    return (RedisError, OSError)


class RedisStore:
    """Runs the budget's scripts on the Redis at ``url``.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` URL (with its password).
        timeout: bound on connecting and on each answer, in seconds.
    """

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self._url = url
        self._timeout = timeout
        self._sync: redis.Redis | None = None
        self._sync_scripts: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async: redis.asyncio.Redis | None = None
        self._async_scripts: dict[str, Any] = {}

    def _options(self) -> dict[str, Any]:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return {
            "socket_connect_timeout": self._timeout,
            "socket_timeout": self._timeout,
            "retry": Retry(NoBackoff(), 0),
        }

    def _sync_client(self) -> dict[str, Any]:
        if self._sync is None:
            import redis

            client = redis.Redis.from_url(self._url, **self._options())
            self._sync_scripts = {
                name: client.register_script(getattr(_scripts, name)) for name in _NAMES
            }
            self._sync = client
        return self._sync_scripts

    def run(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> list[int]:
        """Run script ``script`` (RESERVE, SETTLE, REFRESH or READ); its answer as integers."""
        answer = self._sync_client()[script](keys=keys, args=args)
        return [int(value) for value in answer]

    def run_many(self, calls: Sequence[tuple[str, Sequence[str], Sequence[Any]]]) -> list[Any]:
        """Run several scripts in one round trip (a pipeline, not a transaction)."""
        scripts = self._sync_client()
        assert self._sync is not None
        pipe = self._sync.pipeline(transaction=False)
        for script, keys, args in calls:
            scripts[script](keys=keys, args=args, client=pipe)
        return [[int(value) for value in answer] for answer in pipe.execute()]

    async def run_async(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> list[int]:
        """:meth:`run` over the async client of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._loop is not loop:
            import redis.asyncio

            from_url: Any = redis.asyncio.Redis.from_url
            client = from_url(self._url, **self._options())
            self._async_scripts = {
                name: client.register_script(getattr(_scripts, name)) for name in _NAMES
            }
            self._async, self._loop = client, loop
        answer = await self._async_scripts[script](keys=keys, args=args)
        return [int(value) for value in answer]

    async def aclose(self) -> None:
        """Close the async client's connections, if it belongs to the running loop."""
        client = self._async
        if client is not None and self._loop is asyncio.get_running_loop():
            self._async = self._loop = None
            await client.aclose()

    def close(self) -> None:
        """Close the sync client's connections (the async ones close with their loop)."""
        client, self._sync = self._sync, None
        if client is not None:
            client.close()
