"""Where ledger rows wait to be written: bounded, in order, counted."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

__all__ = ["LedgerBuffer"]

_R = TypeVar("_R")


class LedgerBuffer(Generic[_R]):
    """Rows waiting for the database, at most ``capacity`` of them, oldest first.

    Rows are offered as calls are counted (any thread), and taken a batch at
    a time by the writer. A taken batch stays *in flight*, still pending,
    until :meth:`written` says it is in the database; a batch whose write
    failed is taken again, the same rows in the same order, so a retry
    never skips a row and (the write being idempotent) never doubles one.

    Invariant, at every moment (all counts under one lock)::

        offered == written + pending + dropped
        pending == queued + in flight <= capacity

    When ``pending`` is at ``capacity`` the row offered is the one dropped:
    rows already waiting (older, maybe already being written) are kept.

    Args:
        capacity: the most rows pending at once (``GL_LLM_LEDGER_BUFFER``).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a ledger buffer holds at least 1 row, not {capacity}")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._queued: deque[_R] = deque()
        self._in_flight: list[_R] = []
        self.offered = 0
        self.written_rows = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Rows not yet written: queued, and in flight (being written or to be retried)."""
        with self._lock:
            return len(self._queued) + len(self._in_flight)

    def counts(self) -> tuple[int, int, int]:
        """``(written, pending, dropped)``, read together."""
        with self._lock:
            return self.written_rows, len(self._queued) + len(self._in_flight), self.dropped

    def offer(self, row: _R) -> bool:
        """Queue ``row``; ``False`` (and counted as dropped) when ``capacity`` rows are pending."""
        with self._lock:
            self.offered += 1
            if len(self._queued) + len(self._in_flight) >= self.capacity:
                self.dropped += 1
                return False
            self._queued.append(row)
            return True

    def take(self, limit: int) -> list[_R]:
        """The batch to write next: the one in flight, else up to ``limit`` queued rows.

        The rows stay pending until :meth:`written`.
        """
        with self._lock:
            if not self._in_flight:
                queued = self._queued
                count = min(limit, len(queued))
                self._in_flight = [queued.popleft() for _ in range(count)]
            return list(self._in_flight)

    def written(self) -> int:
        """The batch in flight is in the database; returns how many rows it held."""
        with self._lock:
            count = len(self._in_flight)
            self.written_rows += count
            self._in_flight = []
            return count
