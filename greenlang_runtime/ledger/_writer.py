"""The ledger's writer: a lifespan service that moves rows from memory to PostgreSQL.

Every ``flush_seconds`` it has the calls counted (which adds their rows to
the buffer), then writes the buffer out in batches: each batch is copied
(``COPY``) into a temporary table of the connection and moved into the
ledger by one ``INSERT ... ON CONFLICT DO NOTHING``, in one transaction,
so it is idempotent on ``call_id``. While the database is gone it retries
with exponential backoff (with jitter, so many replicas do not knock
together) and rows wait in the buffer. It holds one connection, opened when
first needed and again after any failure; the table is created on the first
connection that finds it missing. Starting never waits for the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from greenlang_runtime._redact import error_line
from greenlang_runtime.ledger._buffer import LedgerBuffer
from greenlang_runtime.ledger._row import COLUMNS, LedgerRow
from greenlang_runtime.ledger._sql import (
    BATCH_TABLE,
    batch_table_statement,
    create_statements,
    insert_statement,
    lock_key,
)

if TYPE_CHECKING:
    import asyncpg

__all__ = ["BATCH_ROWS", "LedgerUnavailable", "LedgerWriter"]

logger = logging.getLogger("greenlang_runtime.ledger")

# Rows per statement: large enough that a second's worth of a busy agent is
# one round trip, small enough that a statement stays well under a second.
BATCH_ROWS: Final = 5000
_FIRST_BACKOFF: Final = 0.1
_MAX_BACKOFF: Final = 5.0
_CONNECT_TIMEOUT: Final = 5.0
_STATEMENT_TIMEOUT: Final = 30.0
_MAX_ERROR_CHARS: Final = 200
# The last attempt when the services stop (they get 1.5 s in all): then the
# count of rows left unwritten is logged.
_LAST_ATTEMPT_SECONDS: Final = 1.0


class LedgerUnavailable(Exception):
    """The ledger's database could not be reached or written to (the message is redacted)."""


class LedgerWriter:
    """Writes ``buffer`` to ``table`` at ``url``: the ``llm-ledger`` service of the lifespan.

    Args:
        url: the PostgreSQL URL (with its password; never shown).
        table: the table, checked and possibly schema-qualified.
        buffer: the rows waiting to be written.
        collect: brings the buffer up to date (counts the finished calls).
        flush_seconds: time between writes (``GL_LLM_LEDGER_FLUSH_SECONDS``).
        ping_seconds: with nothing to write, how often the connection is
            checked, so ``llm-ledger`` turns down without traffic too.
        secrets: strings masked in every error and log line.
    """

    def __init__(
        self,
        url: str,
        table: str,
        buffer: LedgerBuffer[LedgerRow],
        collect: Callable[[], None],
        *,
        flush_seconds: float,
        ping_seconds: float,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self._url = url
        self.table = table
        self.buffer = buffer
        self.collect = collect
        self.flush_seconds = flush_seconds
        self.ping_seconds = ping_seconds
        self.secrets = secrets
        self._insert = insert_statement(table)
        self._connection: asyncpg.Connection | None = None
        self._table_ready = False
        self._task: asyncio.Task[None] | None = None
        self._failures = 0
        self._last_ok = 0.0
        # The last failure, redacted; None while the last attempt succeeded.
        self.error: str | None = None
        # Set once the first attempt to reach the database has ended, either way.
        self.attempted = asyncio.Event()

    async def start(self) -> None:
        """Start writing in the background; the database is not waited for."""
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="greenlang-llm-ledger"
        )

    async def flush(self) -> None:
        """Write every pending row, retrying until done (the caller bounds the time).

        The drain runs it after the in-flight requests and tasks have ended,
        so no new call adds a row meanwhile (save from ``on_shutdown`` hooks,
        whose rows it writes too).
        """
        await self._stop_loop()
        while True:
            self.collect()
            if not self.buffer.pending:
                return
            try:
                await self._write_pending()
            except Exception as error:
                await asyncio.sleep(self._failed(error))

    async def stop(self) -> None:
        """Stop the loop, try once more to write what is pending, close the connection."""
        await self._stop_loop()
        self.collect()
        if self.buffer.pending:
            try:
                await asyncio.wait_for(self._write_pending(), _LAST_ATTEMPT_SECONDS)
            except Exception as error:
                self._failed(error)
        _, pending, _ = self.buffer.counts()
        if pending:
            logger.error(
                "LLM ledger: %d row(s) not written to %s before exit: %s",
                pending,
                self.table,
                self.error or "no time left",
            )
        await self._close()

    async def probe(self) -> None:
        """The ``llm-ledger`` check: raises while the writer cannot reach the database."""
        await self.attempted.wait()
        if self.error is not None:
            raise LedgerUnavailable(self.error)

    async def _stop_loop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            delay = self.flush_seconds
            try:
                self.collect()
                if self.buffer.pending:
                    await self._write_pending()
                elif self._connection is None or loop.time() - self._last_ok >= self.ping_seconds:
                    await self._ping()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                delay = self._failed(error)
            await asyncio.sleep(delay)

    async def _write_pending(self) -> None:
        """Write batches until nothing is pending; a failure leaves its batch in flight."""
        while True:
            batch = self.buffer.take(BATCH_ROWS)
            if not batch:
                return
            connection = await self._connect()
            try:
                async with connection.transaction():
                    await connection.copy_records_to_table(
                        BATCH_TABLE, records=batch, columns=COLUMNS, timeout=_STATEMENT_TIMEOUT
                    )
                    await connection.execute(self._insert, timeout=_STATEMENT_TIMEOUT)
            except BaseException as error:
                if _missing_table(error):
                    self._table_ready = False
                self._drop()
                raise
            self.buffer.written()
            self._succeeded()

    async def _ping(self) -> None:
        connection = await self._connect()
        try:
            await connection.fetchval("SELECT 1", timeout=_CONNECT_TIMEOUT)
        except BaseException:
            self._drop()
            raise
        self._succeeded()

    async def _connect(self) -> asyncpg.Connection:
        """The open connection, or a new one (creating the table if this is its first)."""
        connection = self._connection
        if connection is not None and not connection.is_closed():
            return connection
        import asyncpg

        connection = await asyncpg.connect(self._url, timeout=_CONNECT_TIMEOUT)
        try:
            if not self._table_ready:
                await _create_table(connection, self.table)
                self._table_ready = True
            await connection.execute(batch_table_statement(self.table))
        except BaseException as error:
            if _missing_table(error):  # dropped since: created again on the next attempt
                self._table_ready = False
            connection.terminate()
            raise
        self._connection = connection
        return connection

    def _succeeded(self) -> None:
        self._last_ok = asyncio.get_running_loop().time()
        if self.error is not None:
            _, pending, _ = self.buffer.counts()
            logger.info("LLM ledger: %s is reachable again; %d row(s) pending", self.table, pending)
        self.error = None
        self._failures = 0
        self.attempted.set()

    def _failed(self, error: BaseException) -> float:
        """Record a failed attempt; the seconds to wait before the next."""
        if isinstance(error, TimeoutError):
            text = "no answer in time"
        else:
            text = error_line(error, _MAX_ERROR_CHARS, self.secrets)
        if self.error is None:
            _, pending, _ = self.buffer.counts()
            logger.warning(
                "LLM ledger: cannot write to %s (%s); %d row(s) pending, retrying with backoff",
                self.table,
                text,
                pending,
            )
        self.error = text
        self._failures += 1
        self.attempted.set()
        backoff = min(_MAX_BACKOFF, _FIRST_BACKOFF * 2.0 ** min(self._failures - 1, 32))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - spreads replicas, not a secret
        return backoff * jitter

    def _drop(self) -> None:
        """Forget the connection after a failure (whatever state it was left in)."""
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=1.0)


async def _create_table(connection: asyncpg.Connection, table: str) -> None:
    """Create ``table`` unless it exists, one replica at a time (an advisory lock)."""
    if await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
        return
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", lock_key(table))
        await connection.execute(create_statements(table))
    logger.info("LLM ledger: table %s is ready", table)


def _missing_table(error: BaseException) -> bool:
    return type(error).__name__ == "UndefinedTableError"
