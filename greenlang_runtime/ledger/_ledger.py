"""The usage ledger of one runtime: rows made as calls are counted, buffered, written."""

from __future__ import annotations

import importlib.util
import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from greenlang_runtime._redact import url_secrets
from greenlang_runtime.checks import Check
from greenlang_runtime.config import Identity, Settings
from greenlang_runtime.exceptions import DependencyError
from greenlang_runtime.ledger._buffer import LedgerBuffer
from greenlang_runtime.ledger._collector import LedgerMetrics
from greenlang_runtime.ledger._context import CapabilityContext, current_capability
from greenlang_runtime.ledger._row import LedgerRow, cost_decimal, new_call_id, utc
from greenlang_runtime.ledger._writer import LedgerWriter

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from greenlang_runtime.llm import Usage

__all__ = ["CALL_ID_ATTRIBUTE", "CHECK_NAME", "Ledger"]

logger = logging.getLogger("greenlang_runtime.ledger")

CHECK_NAME = "llm-ledger"
CALL_ID_ATTRIBUTE = "greenlang.llm.call_id"

# What a call's end notes for its row: (call id or None, capability, trace id).
_Mark = tuple[object, str | None, str | None]


class Ledger:
    """Every call of the instrumented clients as one row in PostgreSQL (a ``LedgerSink``).

    At a call's end, :meth:`mark` notes its capability and trace; when the
    call is counted, :meth:`add` makes its row with the cost the counter got
    and offers it to the buffer; the :attr:`writer` (a lifespan service)
    writes the buffer out, after ``before_flush`` has counted the finished
    LLM calls, so that their rows are in the buffer.

    Args:
        identity: the agent's identity, on every row.
        url: the database (``GL_LLM_LEDGER_URL``), with its password.
        table: the table (``GL_LLM_LEDGER_TABLE``).
        capacity: rows kept while they wait (``GL_LLM_LEDGER_BUFFER``).
        flush_seconds: time between writes (``GL_LLM_LEDGER_FLUSH_SECONDS``).
        ping_seconds: how often an idle connection is checked.
        registry: where the ``agent_llm_ledger_*`` collector is registered.
        before_flush: counts the finished LLM calls before each write
            (:meth:`~greenlang_runtime.llm.LLMAccounting.count_calls`).
    """

    def __init__(
        self,
        identity: Identity,
        url: str,
        table: str,
        *,
        capacity: int,
        flush_seconds: float,
        ping_seconds: float,
        registry: CollectorRegistry | None = None,
        before_flush: Callable[[], None] | None = None,
    ) -> None:
        self._before_flush = before_flush
        self._who = (identity.agent_id, identity.version, identity.tenant_id, identity.environment)
        self.table = table
        self.capacity = capacity
        self.buffer: LedgerBuffer[LedgerRow] = LedgerBuffer(capacity)
        self.secrets = url_secrets(url)
        self.writer = LedgerWriter(
            url,
            table,
            self.buffer,
            self.collect_calls,
            flush_seconds=flush_seconds,
            ping_seconds=ping_seconds,
            secrets=self.secrets,
        )
        self.metrics = LedgerMetrics(identity.labels, self.buffer, self.collect_calls, registry)
        # Sets the capability of the calls made inside a capability call.
        self.observer = CapabilityContext()
        self._overflowing = False

    @classmethod
    def from_settings(
        cls,
        identity: Identity,
        settings: Settings,
        registry: CollectorRegistry | None,
        before_flush: Callable[[], None] | None = None,
    ) -> Ledger:
        """The ledger ``GL_LLM_LEDGER_*`` ask for (``GL_LLM_LEDGER_URL`` must be set).

        Raises :class:`~greenlang_runtime.exceptions.DependencyError` at once
        when asyncpg (the ``postgres`` extra) is missing, not at the first write.
        """
        if settings.llm_ledger_url is None:
            raise ValueError("the LLM ledger needs GL_LLM_LEDGER_URL")
        if importlib.util.find_spec("asyncpg") is None:
            raise DependencyError(CHECK_NAME, "postgres")
        return cls(
            identity,
            settings.llm_ledger_url.reveal(),
            settings.llm_ledger_table,
            capacity=settings.llm_ledger_buffer,
            flush_seconds=settings.llm_ledger_flush_seconds,
            ping_seconds=settings.check_interval_seconds,
            registry=registry,
            before_flush=before_flush,
        )

    def collect_calls(self) -> None:
        """Count the finished calls, which adds their rows to the buffer."""
        before = self._before_flush
        if before is not None:
            before()

    def check(self, *, timeout: float, interval: float) -> Check:
        """The non-critical ``llm-ledger`` readiness check: down while rows cannot be written."""
        return Check(
            CHECK_NAME,
            self.writer.probe,
            critical=False,
            timeout=timeout,
            interval=interval,
            secrets=self.secrets,
        )

    def mark(self, span: Span | None) -> _Mark:
        """At a call's end: its capability, and with a span, its id (set on it) and trace."""
        capability = current_capability.get()
        if span is None:
            return None, capability, None
        call_id = new_call_id(time.time())
        span.set_attribute(CALL_ID_ATTRIBUTE, str(call_id))
        context = span.get_span_context()
        trace_id = format(context.trace_id, "032x") if context.is_valid else None
        return call_id, capability, trace_id

    def add(
        self,
        provider: str,
        model: str,
        usage: Usage,
        cost: float,
        priced: bool,
        status: str,
        seconds: float,
        ended: float,
        mark: object,
    ) -> None:
        """The call's row, offered to the buffer (dropped and counted when it is full)."""
        call_id: uuid.UUID | None
        capability: str | None
        trace_id: str | None
        call_id, capability, trace_id = mark  # type: ignore[misc]
        started = ended - seconds
        row = LedgerRow(
            new_call_id(started) if call_id is None else call_id,
            utc(started),
            utc(ended),
            *self._who,
            capability,
            trace_id,
            provider,
            model,
            status,
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_write_5m + usage.cache_write_1h,
            cost_decimal(cost),
            priced,
        )
        if self.buffer.offer(row):
            if self._overflowing and self.writer.error is None:
                self._overflowing = False
        elif not self._overflowing:
            # Once per outage: the flag clears once rows are accepted again
            # with the database reachable.
            self._overflowing = True
            logger.error(
                "LLM ledger: %d rows are pending (GL_LLM_LEDGER_BUFFER=%d): new rows are "
                "dropped and counted in agent_llm_ledger_dropped_total until some are written",
                self.capacity,
                self.capacity,
            )
