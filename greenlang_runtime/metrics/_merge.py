"""One exposition from several processes' metrics: the rules of ``GL_WORKERS``.

Each worker sends its own exposition (the text its ``/metrics`` would
serve) and a copy of its latency sketch; the supervisor adds its own (the
dependency checks run there, once). The merge, series by series:

- counters, histograms and summaries' ``_count``/``_sum``: summed (``_created``:
  the earliest);
- gauges: summed (in-flight calls, queue depth, pending ledger rows, memory
  and CPU of the whole process tree, and any gauge of the author's);
- ``agent_latency_p50/p95/p99_seconds``: from the workers' sketches merged,
  never an average or a maximum;
- the budget gauges (limit and spent, one shared Redis value that each
  worker reads): the largest, i.e. the freshest reading of a sum that only
  grows within a period;
- the dependency series, ``agent_info`` and ``python_info``: the supervisor's only;
- ``process_start_time_seconds``: the earliest; ``process_max_fds`` and
  ``process_virtual_memory_max_bytes`` (limits, not usage): the largest;
- a summary's quantiles cannot be merged: left out.

A worker that exits leaves its last counts in :class:`Retired`, added to
every later exposition, so no counter ever goes down when a worker is
replaced.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from greenlang_runtime import metric_names as names
from greenlang_runtime.metrics._quantiles import SketchState, SlidingQuantiles

__all__ = ["CUMULATIVE_TYPES", "Exposition", "Retired", "merge_expositions", "parse_exposition"]

CUMULATIVE_TYPES = frozenset({"counter", "histogram", "summary", "gaugehistogram"})
_QUANTILES = {
    names.LATENCY_P50: 0.5,
    names.LATENCY_P95: 0.95,
    names.LATENCY_P99: 0.99,
}
_SUPERVISOR_ONLY = frozenset(
    {names.DEPENDENCY_UP, names.DEPENDENCY_CHECK_DURATION, names.INFO, "python_info"}
)
_LARGEST = frozenset(
    {
        names.LLM_BUDGET_LIMIT,
        names.LLM_BUDGET_SPENT,
        "process_max_fds",
        "process_virtual_memory_max_bytes",
    }
)
_EARLIEST = frozenset({"process_start_time_seconds"})

SampleKey = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class Exposition:
    """One process's metrics, parsed: families in order, their samples by name and labels."""

    families: dict[str, Metric] = field(default_factory=dict)

    def samples(self, family: str) -> dict[SampleKey, float]:
        """The samples of ``family``, keyed by sample name and sorted labels."""
        metric = self.families.get(family)
        if metric is None:
            return {}
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in metric.samples}


def parse_exposition(text: str) -> Exposition:
    """Parse the Prometheus text format into an :class:`Exposition`."""
    return Exposition({family.name: family for family in text_string_to_metric_families(text)})


class Retired:
    """The cumulative counts and latency samples of workers that have exited.

    Args:
        sketch: an empty sketch to merge the exited workers' latency into.
    """

    def __init__(self, sketch: SlidingQuantiles) -> None:
        self.sketch = sketch
        self.families: dict[str, Metric] = {}
        self.counts: dict[str, dict[SampleKey, float]] = {}

    def add(self, exposition: Exposition, sketch: SketchState | None) -> None:
        """Keep a worker's last counts (and latency samples) for good."""
        for name, family in exposition.families.items():
            if family.type not in CUMULATIVE_TYPES or name in _SUPERVISOR_ONLY:
                continue
            self.families.setdefault(name, family)
            kept = self.counts.setdefault(name, {})
            for key, value in exposition.samples(name).items():
                kept[key] = _combine(key[0], kept.get(key), value)
        if sketch is not None:
            self.sketch.merge(sketch)

    def exposition(self) -> Exposition:
        """What the exited workers still contribute, as one more exposition."""
        result = Exposition()
        for name, family in self.families.items():
            metric = Metric(family.name, family.documentation, family.type, family.unit)
            for (sample, labels), value in self.counts[name].items():
                metric.add_sample(sample, dict(labels), value)
            result.families[name] = metric
        return result


def merge_expositions(
    supervisor: Exposition,
    workers: Sequence[Exposition],
    sketches: Iterable[SketchState],
    empty_sketch: SlidingQuantiles,
    now: float | None = None,
) -> list[Metric]:
    """The families of one exposition covering the supervisor and every worker.

    Args:
        supervisor: the supervisor's own metrics (dependency checks, its memory and CPU).
        workers: each live worker's metrics, plus what the exited ones left.
        sketches: each worker's latency sketch (and the exited workers').
        empty_sketch: a sketch with no samples, with the workers' window and
            accuracy, to merge them into.
        now: the sketches' clock (``time.perf_counter``) now.
    """
    for state in sketches:
        empty_sketch.merge(state)
    quantile_values = dict(
        zip(
            _QUANTILES,
            empty_sketch.quantiles(
                list(_QUANTILES.values()), time.perf_counter() if now is None else now
            ),
            strict=True,
        )
    )
    order: list[str] = list(supervisor.families)
    for exposition in workers:
        order.extend(name for name in exposition.families if name not in order)
    merged = []
    for name in dict.fromkeys(order):
        first = supervisor.families.get(name) or next(
            e.families[name] for e in workers if name in e.families
        )
        metric = Metric(first.name, first.documentation, first.type, first.unit)
        if name in _QUANTILES:
            for sample in first.samples:
                metric.add_sample(sample.name, sample.labels, quantile_values[name])
        else:
            sources = [supervisor] if name in _SUPERVISOR_ONLY else [supervisor, *workers]
            totals: dict[SampleKey, float] = {}
            for exposition in sources:
                for key, value in exposition.samples(name).items():
                    if first.type == "summary" and any(k == "quantile" for k, _ in key[1]):
                        continue
                    totals[key] = _combine(
                        key[0],
                        totals.get(key),
                        value,
                        largest=name in _LARGEST,
                        earliest=name in _EARLIEST,
                    )
            for (sample_name, labels), value in totals.items():
                metric.add_sample(sample_name, dict(labels), value)
        merged.append(metric)
    return merged


def _combine(
    sample: str,
    total: float | None,
    value: float,
    *,
    largest: bool = False,
    earliest: bool = False,
) -> float:
    """Add ``value`` to ``total``: a sum, the earliest (``_created``, a start time), the largest."""
    if total is None or math.isnan(total):
        return value
    if math.isnan(value):
        return total
    if earliest or sample.endswith("_created"):
        return min(total, value)
    if largest:
        return max(total, value)
    return total + value
