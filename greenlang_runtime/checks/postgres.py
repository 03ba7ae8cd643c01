"""The ``postgres`` check: ``SELECT 1`` over one connection, kept open and reused."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from greenlang_runtime.checks._check import Check, server_check

if TYPE_CHECKING:
    import asyncpg

__all__ = ["postgres_check"]


class _PostgresProbe:
    """Holds one connection across probes; a failure drops it, the next probe reconnects.

    A probe never opens a connection of its own when the last one still
    works, so the database sees one connection per agent, whatever the
    probe rate.
    """

    def __init__(self, dsn: str, timeout: float) -> None:
        self._dsn = dsn
        self._timeout = timeout
        self._connection: asyncpg.Connection | None = None

    async def __call__(self) -> None:
        import asyncpg

        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(self._dsn, timeout=self._timeout)
            await self._connection.fetchval("SELECT 1")
        except BaseException:
            # Whatever state a failed or cancelled query left it in, start afresh.
            self._drop()
            raise

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=self._timeout)


def postgres_check(
    dsn: str, *, name: str = "postgres", critical: bool = True, timeout: float, interval: float
) -> Check:
    """A check of the PostgreSQL server at ``dsn`` (needs the ``postgres`` extra)."""
    return server_check(
        name,
        dsn,
        ("asyncpg", "postgres"),
        lambda: _PostgresProbe(dsn, timeout),
        critical=critical,
        timeout=timeout,
        interval=interval,
    )
