"""The ``agent_llm_budget_*`` series: plain numbers, families only at scrape time.

Registered only when a budget is configured. The spent gauge is the
committed spend of the current period as Redis last answered it; once the
clock has passed into a new period that no answer has come from yet, it
reads 0 (no spend of the new period is known, and the old one's is not its).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from greenlang_runtime import metric_names as names
from greenlang_runtime.llm.budget._period import Periods
from greenlang_runtime.metric_names import AGENT_LABELS

__all__ = ["BudgetMetrics"]


class BudgetMetrics(Collector):
    """The budget's limit, spend, refusals, unchecked calls and overruns.

    Args:
        labels: the agent's ``agent_id, version, tenant_id``.
        scope: ``tenant`` or ``agent`` (the ``scope`` label).
        limit: the budget in USD.
        periods: the budget's periods, to tell the current one.
        clock: seconds since the epoch.
        registry: where to register; ``None`` registers nowhere.
    """

    def __init__(
        self,
        labels: tuple[str, str, str],
        scope: str,
        limit: float,
        periods: Periods,
        clock: Callable[[], float],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._labels = [*labels, scope]
        self._limit = limit
        self._periods = periods
        self._clock = clock
        self._lock = threading.Lock()
        self._spent_period = ""
        self._spent = 0.0
        self.rejections = 0
        self.unchecked = 0
        self.excess = 0.0
        if registry is not None:
            registry.register(self)

    def spent(self, period: str, committed: float) -> None:
        """Redis answered ``committed`` USD for ``period`` (kept unless a later period's was)."""
        with self._lock:
            # Period names of one kind sort as their dates do.
            if period >= self._spent_period:
                self._spent_period = period
                self._spent = committed

    def rejected(self) -> None:
        with self._lock:
            self.rejections += 1

    def let_through(self) -> None:
        with self._lock:
            self.unchecked += 1

    def overran(self, usd: float) -> None:
        with self._lock:
            self.excess += usd

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        labels = [*AGENT_LABELS, "scope"]
        current = self._periods.at(self._clock()).name
        with self._lock:
            spent = self._spent if self._spent_period == current else 0.0
            rejections, unchecked, excess = self.rejections, self.unchecked, self.excess
        gauges = (
            (names.LLM_BUDGET_LIMIT, "The LLM budget of the period, in USD.", self._limit),
            (
                names.LLM_BUDGET_SPENT,
                "Committed LLM spend of the current budget period, in USD (shared by the scope).",
                spent,
            ),
        )
        for name, documentation, value in gauges:
            gauge = GaugeMetricFamily(name, documentation, labels=labels)
            gauge.add_metric(self._labels, value)
            yield gauge
        counters = (
            (
                names.LLM_BUDGET_REJECTIONS,
                "LLM calls refused before they were sent: over budget, or unchecked in deny mode.",
                rejections,
            ),
            (
                names.LLM_BUDGET_UNCHECKED,
                "LLM calls let through unchecked while the budget's Redis was unreachable.",
                unchecked,
            ),
            (
                names.LLM_BUDGET_EXCESS,
                "USD that calls cost beyond their reservation (committed all the same).",
                excess,
            ),
        )
        for name, documentation, value in counters:
            family = CounterMetricFamily(name, documentation, labels=labels)
            family.add_metric(self._labels, value)
            yield family
