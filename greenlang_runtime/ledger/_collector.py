"""The ledger's series: ``agent_llm_ledger_rows_total``, ``_pending``, ``_dropped_total``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from greenlang_runtime import metric_names as names
from greenlang_runtime.ledger._buffer import LedgerBuffer
from greenlang_runtime.metrics.families import counter, gauge

__all__ = ["LedgerMetrics"]


class LedgerMetrics(Collector):
    """The ledger's series, read from its buffer's counts at scrape time.

    Args:
        identity: the values of the ``agent_id, version, tenant_id`` labels.
        buffer: the rows waiting to be written, and the counts of the rest.
        collect: brings the buffer up to date first (counts the finished calls).
        registry: where to register; ``None`` registers nowhere.
    """

    def __init__(
        self,
        identity: tuple[str, str, str],
        buffer: LedgerBuffer[Any],
        collect: Callable[[], None],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._identity = list(identity)
        self._buffer = buffer
        self._collect = collect
        if registry is not None:
            registry.register(self)

    def describe(self) -> Iterable[Metric]:
        """No description: collected at every scrape."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """The three series, from one reading of the buffer's counts."""
        self._collect()
        written, pending, dropped = self._buffer.counts()
        rows = counter(names.LLM_LEDGER_ROWS, "LLM usage rows written to the ledger.")
        rows.add_metric(self._identity, written)
        waiting = gauge(
            names.LLM_LEDGER_PENDING,
            "LLM usage rows waiting to be written to the ledger (retried ones included).",
            self._identity,
            pending,
        )
        lost = counter(
            names.LLM_LEDGER_DROPPED,
            "LLM usage rows dropped because the ledger's buffer was full.",
        )
        lost.add_metric(self._identity, dropped)
        yield from (rows, waiting, lost)
