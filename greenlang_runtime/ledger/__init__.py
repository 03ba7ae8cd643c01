"""The LLM usage ledger: every instrumented LLM call as one row in PostgreSQL.

Prometheus counters lose what happened since the last scrape when a pod
exits; the ledger is the record a platform bills from (docs/llm.md). The
modules, from the call's end to the database:

- ``_row``: the row (:class:`~greenlang_runtime.ledger._row.LedgerRow`) and its call id;
- ``_context``: the capability a call belongs to, carried in a context variable;
- ``_buffer``: the bounded memory where rows wait to be written;
- ``_sql``: the table, its indexes and the statements that write and read it;
- ``_writer``: the lifespan service that writes batches, retrying while the
  database is gone;
- ``_collector``: ``agent_llm_ledger_rows_total``, ``_pending``, ``_dropped_total``;
- ``_ledger``: the pieces put together for one runtime;
- ``usage``: ``greenlang-runtime usage``, the totals the database computes.

Nothing here is imported unless ``GL_LLM_LEDGER_URL`` is set or the
``usage`` command runs (``Ledger`` is loaded when first used); asyncpg only
once the writer connects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenlang_runtime._lazy import lazy_names

if TYPE_CHECKING:
    from greenlang_runtime.ledger._ledger import Ledger

__all__ = ["Ledger"]

_HOMES = {"Ledger": "greenlang_runtime.ledger._ledger"}

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
