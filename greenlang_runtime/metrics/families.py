"""What every ``agent_*`` collector shares: label sets, bounded labels, family builders.

The runtime's collectors (requests, LLM usage, dependency checks) keep plain
counts and build prometheus_client families only at scrape time; these
helpers keep that conversion, and the capping of outside label values, in
one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from greenlang_runtime._redact import redact_text
from greenlang_runtime.metric_names import AGENT_LABELS, MAX_LABEL_VALUE_CHARS

__all__ = [
    "OTHER",
    "BoundedLabel",
    "counter",
    "cumulative",
    "gauge",
    "histogram",
]

# Label values that come from outside are capped; the rest share this value.
OTHER = "other"


class BoundedLabel:
    """A label whose values come from outside: masked, and bounded in length and number.

    A value is shown as :func:`~greenlang_runtime._redact.redact_text` masks
    it (a model id or an exception's class name holding a key shows ``***``
    in its place); one longer than ``MAX_LABEL_VALUE_CHARS`` characters
    becomes ``other``, and so does every value after the first ``limit``
    distinct ones.
    Totals stay exact: what overflows is counted under ``other``, never
    dropped. Not locked: callers hold their collector's lock, or accept that
    two threads racing on the very last free place may both take it.

    Args:
        limit: how many distinct values are kept.
    """

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        # Each value admitted, and what it shows as (itself, or masked).
        self._seen: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        seen = self._seen
        shown = seen.get(value)
        if shown is not None:
            return shown
        if len(seen) >= self._limit or len(value) > MAX_LABEL_VALUE_CHARS:
            return OTHER
        shown = seen[value] = redact_text(value)
        return shown


def cumulative(bounds: Sequence[str], counts: Iterable[int]) -> list[tuple[str, float]]:
    """Per-bucket counts (the last one past every bound) as Prometheus cumulative buckets."""
    result, running = [], 0
    for bound, count in zip(bounds, counts, strict=True):
        running += count
        result.append((bound, float(running)))
    return result


def counter(name: str, documentation: str, *labels: str) -> CounterMetricFamily:
    """A counter family labelled by the agent's identity, then ``labels``."""
    return CounterMetricFamily(name, documentation, labels=[*AGENT_LABELS, *labels])


def histogram(name: str, documentation: str, *labels: str) -> HistogramMetricFamily:
    """A histogram family labelled by the agent's identity, then ``labels``."""
    return HistogramMetricFamily(name, documentation, labels=[*AGENT_LABELS, *labels])


def gauge(name: str, documentation: str, identity: Sequence[str], value: float) -> Metric:
    """A gauge family with the one series of this agent."""
    family = GaugeMetricFamily(name, documentation, labels=list(AGENT_LABELS))
    family.add_metric(list(identity), value)
    return family
