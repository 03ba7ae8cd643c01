"""One ledger row: a finished LLM call, as the platform bills it."""

from __future__ import annotations

import datetime
import os
import uuid
from decimal import Decimal
from typing import Final, NamedTuple

__all__ = ["COLUMNS", "STATUSES", "LedgerRow", "cost_decimal", "new_call_id", "utc"]

STATUSES: Final = ("success", "error", "abandoned")

_UTC = datetime.UTC
_48_BITS = (1 << 48) - 1
_62_BITS = (1 << 62) - 1


class LedgerRow(NamedTuple):
    """One LLM call through an instrumented client (success, error or abandoned stream).

    Invariant: one row per call, its ``call_id`` never reused;
    ``started_at <= ended_at``, both UTC; every token count is ``>= 0`` and
    split as the counters split them (no token in two columns); ``status``
    is one of :data:`STATUSES`; ``cost_usd`` is :func:`cost_decimal` of the
    very float added to ``agent_llm_cost_usd_total`` for this call, so
    ``float(cost_usd)`` is that float, bit for bit; ``priced`` is whether a
    price was found (``False`` implies ``cost_usd == 0``).

    The field order is the column order of the table (:data:`COLUMNS`).
    """

    call_id: uuid.UUID
    started_at: datetime.datetime
    ended_at: datetime.datetime
    agent_id: str
    version: str
    tenant_id: str
    environment: str
    capability: str | None
    trace_id: str | None
    provider: str
    model: str
    status: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: Decimal
    priced: bool


COLUMNS: Final = LedgerRow._fields


def new_call_id(at: float) -> uuid.UUID:
    """A UUID version 7 for a call made at ``at`` (Unix seconds): time-ordered, 74 random bits.

    Time-ordered ids keep the table's primary-key index appended to at its
    end, where random (version 4) ids would touch a random page per row.
    """
    random = int.from_bytes(os.urandom(10), "big")
    value = (
        (int(at * 1000) & _48_BITS) << 80
        | 0x7 << 76
        | (random >> 68) << 64
        | 0b10 << 62
        | random & _62_BITS
    )
    return uuid.UUID(int=value)


def cost_decimal(cost: float) -> Decimal:
    """The shortest decimal that reads back as ``cost`` (``repr``): exact, and no longer than it.

    ``Decimal(cost)`` would be the float's full binary expansion (up to 50+
    digits); ``repr`` is the shortest text that ``float()`` turns back into
    the same float, so the row holds exactly what the counter got.
    """
    return Decimal(repr(cost))


def utc(at: float) -> datetime.datetime:
    """``at`` (Unix seconds) as an aware UTC datetime."""
    return datetime.datetime.fromtimestamp(at, _UTC)
