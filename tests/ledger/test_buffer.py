"""The ledger's buffer and rows: their invariants over random input (hypothesis)."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from greenlang_runtime.ledger._buffer import LedgerBuffer
from greenlang_runtime.ledger._row import cost_decimal, new_call_id

# An operation on the buffer: offer a call of that cost (micro-USD), take a
# batch of up to N rows, the batch in flight written, or its write failed.
_OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("offer"), st.integers(0, 10**9)),
        st.tuples(st.just("take"), st.integers(1, 7)),
        st.tuples(st.just("written"), st.just(0)),
        st.tuples(st.just("failed"), st.just(0)),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(1, 12), operations=_OPERATIONS)
def test_every_row_is_written_pending_or_dropped_once(
    capacity: int, operations: list[tuple[str, int]]
) -> None:
    """written + pending + dropped == offered at every step; no row written twice; costs add up."""
    buffer: LedgerBuffer[tuple[int, Decimal]] = LedgerBuffer(capacity)
    created: list[tuple[int, Decimal]] = []
    written: list[tuple[int, Decimal]] = []
    dropped: list[tuple[int, Decimal]] = []
    batch: list[tuple[int, Decimal]] = []
    for kind, value in operations:
        if kind == "offer":
            row = (len(created), Decimal(value) / 10**6)
            created.append(row)
            full = len(created) - 1 - len(written) - len(dropped) >= capacity
            assert buffer.offer(row) is not full
            if full:
                dropped.append(row)
        elif kind == "take":
            taken = buffer.take(value)
            # A batch not yet written comes back as it was: the retry has the same rows.
            assert not batch or taken == batch
            batch = taken
        elif kind == "written":
            assert buffer.written() == len(batch)
            written.extend(batch)
            batch = []
        # "failed": nothing to do; the batch stays in flight.
        done, pending, lost = buffer.counts()
        assert done + pending + lost == buffer.offered == len(created)
        assert pending <= capacity
        assert (done, lost) == (len(written), len(dropped))
    # Drain what is left, as the writer does with the database back.
    while buffer.pending:
        written.extend(buffer.take(5))
        buffer.written()
    ids = [number for number, _ in written]
    assert len(ids) == len(set(ids))
    # The rows are written in the order they were made; the new ones are the dropped ones.
    assert ids == sorted(ids)
    assert sorted(written + dropped) == created
    assert sum(c for _, c in written) + sum(c for _, c in dropped) == sum(c for _, c in created)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False))
def test_cost_decimal_reads_back_as_the_same_float(cost: float) -> None:
    """The row's decimal is the counter's float, bit for bit, in at most 17 digits."""
    decimal = cost_decimal(cost)
    assert float(decimal) == cost
    assert len(decimal.as_tuple().digits) <= 17


def test_call_ids_are_version_7_time_ordered_and_unique() -> None:
    """10,000 ids: UUID version 7 (RFC 9562 variant), their time prefix ordered, none twice."""
    start = time.time()
    ids = [new_call_id(start + i / 1000) for i in range(10_000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids)
    prefixes = [i.int >> 80 for i in ids]
    assert prefixes == sorted(prefixes)
    assert prefixes[0] == int(start * 1000)
