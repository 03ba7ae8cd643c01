"""``agent_dependency_up`` and ``agent_dependency_check_duration_seconds``."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from greenlang_runtime import metric_names as names
from greenlang_runtime.metrics.families import cumulative, histogram

__all__ = ["DependencyMetrics"]

# A healthy check takes a millisecond or two; a failing one up to its timeout
# (2 s by default, seconds at most).
_BOUNDS = names.bucket_bounds(names.CHECK_DURATION_BUCKETS)


class _Series:
    __slots__ = ("buckets", "sum", "up")

    def __init__(self) -> None:
        self.up = 0
        self.sum = 0.0
        self.buckets = [0] * (len(names.CHECK_DURATION_BUCKETS) + 1)


class DependencyMetrics(Collector):
    """The dependency series of one agent, as one collector fed by the check runner.

    Args:
        identity: the values of the ``agent_id, version, tenant_id`` labels.
        registry: where to register; ``None`` registers nowhere.
    """

    def __init__(
        self, identity: tuple[str, str, str], registry: CollectorRegistry | None = None
    ) -> None:
        self._identity = identity
        self._lock = threading.Lock()
        self._series: dict[str, _Series] = {}
        if registry is not None:
            registry.register(self)

    def declare(self, dependency: str) -> None:
        """Show ``dependency`` as down (0) until its first successful check."""
        with self._lock:
            self._series.setdefault(dependency, _Series())

    def observe(self, dependency: str, seconds: float, up: bool) -> None:
        """Record one check of ``dependency`` that took ``seconds``, and its damped state."""
        with self._lock:
            series = self._series.setdefault(dependency, _Series())
            series.up = int(up)
            series.sum += seconds
            series.buckets[bisect_left(names.CHECK_DURATION_BUCKETS, seconds)] += 1

    def describe(self) -> Iterable[Metric]:
        """No description: collected at every scrape."""
        return ()

    def collect(self) -> Iterator[Metric]:
        """The current values as metric families."""
        with self._lock:
            rows = [(n, s.up, s.sum, list(s.buckets)) for n, s in sorted(self._series.items())]
        up = GaugeMetricFamily(
            names.DEPENDENCY_UP,
            "Whether a dependency is up (1) or down or not yet checked (0), after damping.",
            labels=[*names.AGENT_LABELS, "dependency"],
        )
        durations = histogram(
            names.DEPENDENCY_CHECK_DURATION,
            "Duration of dependency checks, failed ones included.",
            "dependency",
        )
        for dependency, value, total, buckets in rows:
            up.add_metric([*self._identity, dependency], value)
            durations.add_metric([*self._identity, dependency], cumulative(_BOUNDS, buckets), total)
        yield up
        yield durations
